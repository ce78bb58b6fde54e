// Prints the gzipped size of the JavaScript a first visit loads (the entry chunk and
// the chunks index.html preloads) and fails the build above the budget.
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'

const BUDGET_KB = 150
const dist = new URL('../dist/', import.meta.url).pathname
const html = readFileSync(join(dist, 'index.html'), 'utf8')
const scripts = [...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+\.js)"/g)].map((m) => m[1])
let total = 0
for (const file of new Set(scripts)) {
  const size = gzipSync(readFileSync(join(dist, file))).length
  total += size
  console.log(`  ${file}  ${(size / 1024).toFixed(1)} KB gzipped`)
}
const kb = total / 1024
console.log(`initial JavaScript: ${kb.toFixed(1)} KB gzipped (budget ${BUDGET_KB} KB)`)
if (kb > BUDGET_KB) {
  console.error(`over the budget of ${BUDGET_KB} KB`)
  process.exit(1)
}
