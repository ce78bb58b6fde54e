/** Formatting shared by every page: durations, relative and exact times. Pure functions. */

/** 0 s, 20 ms, 1.3 s, 45 s, 3 min 20 s, 2 h 5 min, 3 days 4 h: two units at most, never
 * "0 min"; a run shorter than a second in milliseconds (not "0.0 s"). */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—'
  if (seconds < 0) seconds = 0
  if (seconds > 0 && Math.round(seconds * 1000) < 1000) {
    return seconds < 0.0005 ? 'under 1 ms' : `${Math.round(seconds * 1000)} ms`
  }
  if (seconds < 10 && seconds % 1 !== 0) return `${seconds.toFixed(1)} s`
  let rest = Math.round(seconds)
  const units: [number, string][] = [
    [86400, 'day'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ]
  const parts: string[] = []
  for (const [size, name] of units) {
    if (rest >= size || (size === 1 && parts.length === 0)) {
      const n = Math.floor(rest / size)
      rest -= n * size
      parts.push(name === 'day' ? `${n} ${n === 1 ? 'day' : 'days'}` : `${n} ${name}`)
    }
    if (parts.length === 2) break
  }
  // "2 h 0 min" reads worse than "2 h".
  return parts.filter((p, i) => i === 0 || !p.startsWith('0 ')).join(' ')
}

/** "just now", "5 min ago", "in 3 h", "2 days ago" from an ISO time and a `now`. */
export function relativeTime(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never'
  const at = Date.parse(iso)
  if (Number.isNaN(at)) return '—'
  const diff = Math.round((at - now) / 1000)
  const ahead = diff > 0
  const size = Math.abs(diff)
  if (size < 10) return ahead ? 'in a few seconds' : 'just now'
  let text: string
  if (size < 60) text = `${size} s`
  else if (size < 3600) text = `${Math.floor(size / 60)} min`
  else if (size < 86400) text = `${Math.floor(size / 3600)} h`
  else {
    const days = Math.floor(size / 86400)
    text = `${days} ${days === 1 ? 'day' : 'days'}`
  }
  return ahead ? `in ${text}` : `${text} ago`
}

// Building an Intl.DateTimeFormat costs far more than using one: one per zone, reused
// (a list of 500 checks formats 1000 times).
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(zone: string | undefined): Intl.DateTimeFormat {
  const key = zone ?? ''
  let found = formatters.get(key)
  if (!found) {
    const options: Intl.DateTimeFormatOptions = {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    }
    if (zone) options.timeZone = zone
    found = new Intl.DateTimeFormat('en-GB', options)
    formatters.set(key, found)
  }
  return found
}

/** The exact time, in the given zone or the browser's (the hover text of relative times). */
export function exactTime(iso: string | null | undefined, zone?: string): string {
  if (!iso) return ''
  const at = new Date(iso)
  if (Number.isNaN(at.getTime())) return ''
  return formatterFor(zone).format(at)
}

/** Bytes for people: 812 B, 4.2 KB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}
