import { describe, expect, it } from 'vitest'
import { csrfToken } from '../src/api/client'

describe('the CSRF token', () => {
  it('is read from the plain cookie of the local mode', () => {
    expect(csrfToken('theme=dark; srvpulse_csrf=abc123; other=1')).toBe('abc123')
  })

  it('prefers the __Host- cookie of https deployments', () => {
    expect(csrfToken('srvpulse_csrf=old; __Host-srvpulse_csrf=new')).toBe('new')
  })

  it('is missing when signed out', () => {
    expect(csrfToken('theme=dark')).toBeNull()
  })
})
