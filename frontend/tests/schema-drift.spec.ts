// @vitest-environment node
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))

describe('the generated API types', () => {
  it('match the committed OpenAPI document (run `npm run gen:api` after `make openapi`)', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'srvpulse-schema-')), 'schema.d.ts')
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    const args = (pkg.scripts['gen:api'] ?? '').split(' ').slice(1)
    const at = args.indexOf('-o')
    args[at + 1] = out
    execFileSync(join(root, 'node_modules/.bin/openapi-typescript'), args, { cwd: root, stdio: 'pipe' })
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(root, 'src/api/schema.d.ts'), 'utf8'))
  }, 120_000) // generating takes seconds on a loaded machine
})
