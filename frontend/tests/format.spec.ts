import { describe, expect, it } from 'vitest'
import { exactTime, formatDuration, relativeTime } from '../src/composables/format'

describe('formatDuration', () => {
  it('shows at most two units and drops a zero second unit', () => {
    expect(formatDuration(0)).toBe('0 s')
    expect(formatDuration(45)).toBe('45 s')
    expect(formatDuration(200)).toBe('3 min 20 s')
    expect(formatDuration(7200)).toBe('2 h')
    expect(formatDuration(7500)).toBe('2 h 5 min')
    expect(formatDuration(86400)).toBe('1 day')
    expect(formatDuration(3 * 86400 + 4 * 3600 + 59)).toBe('3 days 4 h')
  })

  it('keeps a tenth of a second for short runs and a dash for no value', () => {
    expect(formatDuration(1.25)).toBe('1.3 s')
    expect(formatDuration(null)).toBe('—')
    expect(formatDuration(undefined)).toBe('—')
  })

  it('shows a run shorter than a second in milliseconds, never "0.0 s"', () => {
    expect(formatDuration(0.02)).toBe('20 ms')
    expect(formatDuration(0.4)).toBe('400 ms')
    expect(formatDuration(0.0002)).toBe('under 1 ms')
    expect(formatDuration(0.9996)).toBe('1.0 s')
  })
})

describe('relativeTime', () => {
  const now = Date.parse('2026-12-01T12:00:00Z')

  it('says how long ago or how soon, in the largest whole unit', () => {
    expect(relativeTime('2026-12-01T11:59:55Z', now)).toBe('just now')
    expect(relativeTime('2026-12-01T11:59:30Z', now)).toBe('30 s ago')
    expect(relativeTime('2026-12-01T11:55:00Z', now)).toBe('5 min ago')
    expect(relativeTime('2026-12-01T09:00:00Z', now)).toBe('3 h ago')
    expect(relativeTime('2026-11-29T12:00:00Z', now)).toBe('2 days ago')
    expect(relativeTime('2026-12-01T13:00:00Z', now)).toBe('in 1 h')
    expect(relativeTime('2026-12-02T12:00:00Z', now)).toBe('in 1 day')
  })

  it('says never for a check that was never pinged', () => {
    expect(relativeTime(null, now)).toBe('never')
  })
})

describe('exactTime', () => {
  it('writes the time in the given zone with the zone named', () => {
    const text = exactTime('2026-07-01T00:30:00Z', 'Europe/Riga')
    expect(text).toContain('03:30:00')
    expect(text).toMatch(/GMT\+3|EEST/)
  })
})
