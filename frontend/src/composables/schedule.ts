/** A check's schedule in words: cron via cronstrue, a period via formatDuration. */
import cronstrue from 'cronstrue'
import { formatDuration } from './format'

export interface ScheduleLike {
  schedule?: string
  tz?: string
  timeout?: number
}

/** "At 03:00 (Europe/Riga)" for a cron check; "every 1 day" for a period; null when bad. */
// The words of an expression never change: a list of many checks describes each once.
const described = new Map<string, string | null>()

export function describeCron(expression: string): string | null {
  const trimmed = expression.trim()
  if (!trimmed) return null
  const known = described.get(trimmed)
  if (known !== undefined) return known
  let words: string | null
  try {
    words = cronstrue.toString(trimmed, { use24HourTimeFormat: true, verbose: false })
  } catch {
    words = null
  }
  if (described.size > 1000) described.clear()
  described.set(trimmed, words)
  return words
}

export function describeSchedule(check: ScheduleLike): string {
  if (check.schedule !== undefined) {
    const words = describeCron(check.schedule) ?? check.schedule
    return check.tz && check.tz !== 'UTC' ? `${words} (${check.tz})` : `${words} (UTC)`
  }
  if (check.timeout !== undefined) return `every ${formatDuration(check.timeout)}`
  return '—'
}

/** Period presets the form offers, in seconds. */
export const PERIOD_UNITS = [
  { label: 'minutes', seconds: 60 },
  { label: 'hours', seconds: 3600 },
  { label: 'days', seconds: 86400 },
] as const

/** Split seconds into the largest unit that divides them (3600 -> 1 hours). */
export function splitPeriod(seconds: number): { amount: number; unit: number } {
  for (const unit of [...PERIOD_UNITS].reverse()) {
    if (seconds >= unit.seconds && seconds % unit.seconds === 0) {
      return { amount: seconds / unit.seconds, unit: unit.seconds }
    }
  }
  return { amount: Math.max(1, Math.round(seconds / 60)), unit: 60 }
}
