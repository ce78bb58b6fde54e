/**
 * A check's pings as runs: a /start followed by its completion (success or fail) is one
 * run with a duration; concurrent runs pair by `rid`. Pure, oldest-first in, newest
 * first out, so the timeline reads like a log.
 */
import type { HistoryRun, Ping } from '../api/types'

export interface Run {
  /** The completion's ping number, or the start's while the run is going. */
  key: number
  start: Ping | null
  end: Ping | null
  /** Seconds, from the server's completion when it paired the run. */
  duration: number | null
  outcome: 'success' | 'fail' | 'running' | 'log' | 'ignored'
}

export function pingsToRuns(pings: readonly Ping[]): Run[] {
  const oldestFirst = [...pings].sort((a, b) => a.n - b.n)
  const open = new Map<string, Ping>()
  const runs: Run[] = []
  for (const ping of oldestFirst) {
    const rid = ping.rid ?? ''
    if (ping.type === 'start') {
      const previous = open.get(rid)
      if (previous) runs.push({ key: previous.n, start: previous, end: null, duration: null, outcome: 'running' })
      open.set(rid, ping)
      continue
    }
    if (ping.type === 'log' || ping.type === 'ign') {
      runs.push({ key: ping.n, start: null, end: ping, duration: null, outcome: ping.type === 'log' ? 'log' : 'ignored' })
      continue
    }
    const start = open.get(rid) ?? null
    open.delete(rid)
    let duration = ping.duration ?? null
    if (duration === null && start) duration = (Date.parse(ping.date) - Date.parse(start.date)) / 1000
    runs.push({ key: ping.n, start, end: ping, duration, outcome: ping.type })
  }
  for (const start of open.values()) {
    runs.push({ key: start.n, start, end: null, duration: null, outcome: 'running' })
  }
  return runs.sort((a, b) => b.key - a.key)
}

/** [times (s since epoch), durations (s)] of finished runs, oldest first: the chart's data. */
export function durationSeries(runs: readonly Run[]): [number[], number[]] {
  const points = runs
    .filter((r) => r.end !== null && r.duration !== null)
    .map((r) => [Date.parse((r.end as Ping).date) / 1000, r.duration as number] as const)
    .sort((a, b) => a[0] - b[0])
  return [points.map((p) => p[0]), points.map((p) => p[1])]
}

/** The same series from the history store's runs (newest first in, oldest first out). */
export function historySeries(runs: readonly HistoryRun[]): [number[], number[]] {
  const points = runs
    .filter((r) => r.ended_at !== null && r.duration !== null)
    .map((r) => [Date.parse(r.ended_at as string) / 1000, r.duration as number] as const)
    .sort((a, b) => a[0] - b[0])
  return [points.map((p) => p[0]), points.map((p) => p[1])]
}
