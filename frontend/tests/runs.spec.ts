import { describe, expect, it } from 'vitest'
import type { Ping } from '../src/api/types'
import { durationSeries, pingsToRuns } from '../src/composables/runs'

let n = 0
function ping(type: Ping['type'], date: string, over: Partial<Ping> = {}): Ping {
  n += 1
  return {
    type, date, n, scheme: 'http', remote_addr: '127.0.0.1', method: 'GET', ua: 'curl', rid: null,
    exit_status: null, summary: null, body_url: null, body_truncated: false, ...over,
  }
}

describe('pings as runs', () => {
  it('pairs a start with its completion, newest run first', () => {
    const pings = [
      ping('start', '2026-12-01T03:00:00Z'),
      ping('success', '2026-12-01T03:02:00Z', { duration: 120 }),
      ping('start', '2026-12-02T03:00:00Z'),
      ping('fail', '2026-12-02T03:00:30Z', { exit_status: 2 }),
    ]
    const runs = pingsToRuns([...pings].reverse())
    expect(runs.map((r) => [r.outcome, r.duration])).toEqual([
      ['fail', 30],
      ['success', 120],
    ])
    expect(runs[0]?.end?.exit_status).toBe(2)
  })

  it('pairs concurrent runs by rid and shows an unfinished one as running', () => {
    const runs = pingsToRuns([
      ping('start', '2026-12-01T03:00:00Z', { rid: 'a' }),
      ping('start', '2026-12-01T03:00:01Z', { rid: 'b' }),
      ping('success', '2026-12-01T03:00:11Z', { rid: 'a' }),
    ])
    expect(runs.map((r) => [r.outcome, r.start?.rid, r.duration])).toEqual([
      ['success', 'a', 11],
      ['running', 'b', null],
    ])
  })

  it('gives the chart the finished runs oldest first', () => {
    const runs = pingsToRuns([
      ping('success', '2026-12-01T03:00:00Z', { duration: 5 }),
      ping('success', '2026-12-02T03:00:00Z', { duration: 7 }),
      ping('log', '2026-12-02T04:00:00Z'),
    ])
    const [times, durations] = durationSeries(runs)
    expect(durations).toEqual([5, 7])
    expect(times[0]).toBeLessThan(times[1] ?? 0)
  })
})
