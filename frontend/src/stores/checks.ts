/**
 * The current project's checks, kept fresh by polling GET /api/v3/checks with the
 * previous ETag: an unchanged list costs a 304 with no body, so the list page can ask
 * every 2 s and a ping shows within the 5 s the dashboard promises.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { checks as checksApi } from '../api/endpoints'
import type { Check, Status } from '../api/types'

export const POLL_INTERVAL_MS = 2000

export type SortKey = 'name' | 'status' | 'last_ping' | 'next_ping'

/** Worst first when sorting by status. */
const STATUS_ORDER: Record<Status, number> = {
  down: 0,
  grace: 1,
  started: 2,
  up: 3,
  new: 4,
  paused: 5,
}

export function tagsOf(check: Pick<Check, 'tags'>): string[] {
  return check.tags.split(/\s+/).filter(Boolean)
}

export interface CheckFilter {
  search: string
  tags: string[]
  statuses: Status[]
  sort: SortKey
}

/** Filter and sort checks as the list's controls say (pure, so it is tested alone). */
export function filterChecks(all: readonly Check[], filter: CheckFilter): Check[] {
  const needle = filter.search.trim().toLowerCase()
  const found = all.filter((c) => {
    if (needle && !c.name.toLowerCase().includes(needle) && !c.slug.toLowerCase().includes(needle)) {
      return false
    }
    if (filter.statuses.length && !filter.statuses.includes(c.status)) return false
    const tags = tagsOf(c)
    return filter.tags.every((t) => tags.includes(t))
  })
  const byName = (a: Check, b: Check) => a.name.localeCompare(b.name) || a.slug.localeCompare(b.slug)
  const time = (iso: string | null, missing: number) => (iso ? Date.parse(iso) : missing)
  const compare: Record<SortKey, (a: Check, b: Check) => number> = {
    name: byName,
    status: (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || byName(a, b),
    // Most recent first; never pinged last.
    last_ping: (a, b) => time(b.last_ping, -Infinity) - time(a.last_ping, -Infinity) || byName(a, b),
    // Soonest first; nothing expected last.
    next_ping: (a, b) => time(a.next_ping, Infinity) - time(b.next_ping, Infinity) || byName(a, b),
  }
  return found.sort(compare[filter.sort])
}

export const useChecksStore = defineStore('checks', () => {
  const list = ref<Check[]>([])
  const project = ref<string | null>(null)
  const etag = ref<string | null>(null)
  const loaded = ref(false)
  const error = ref<unknown>(null)

  const allTags = computed(() => [...new Set(list.value.flatMap(tagsOf))].sort())

  let inflight: { project: string; done: Promise<void> } | null = null

  /**
   * Fetch the list (a 304 keeps what we have); a call while one is on its way waits for
   * it instead of asking again. Switching project starts afresh.
   */
  function refresh(forProject: string): Promise<void> {
    if (inflight?.project === forProject) return inflight.done
    const done = fetchList(forProject).finally(() => {
      if (inflight?.done === done) inflight = null
    })
    inflight = { project: forProject, done }
    return done
  }

  async function fetchList(forProject: string): Promise<void> {
    if (project.value !== forProject) {
      project.value = forProject
      list.value = []
      etag.value = null
      loaded.value = false
    }
    try {
      const reply = await checksApi.list(forProject, etag.value)
      if (project.value !== forProject) return
      if (reply.data) {
        list.value = reply.data.checks
        etag.value = reply.etag
      }
      loaded.value = true
      error.value = null
    } catch (e) {
      error.value = e
      throw e
    }
  }

  /** Put a check the user just changed into the list without waiting for the poll. */
  function upsert(check: Check): void {
    const at = list.value.findIndex((c) => c.uuid === check.uuid)
    if (at >= 0) list.value.splice(at, 1, check)
    else list.value.push(check)
    etag.value = null
  }

  function remove(uuid: string): void {
    list.value = list.value.filter((c) => c.uuid !== uuid)
    etag.value = null
  }

  return { list, loaded, error, allTags, refresh, upsert, remove }
})
