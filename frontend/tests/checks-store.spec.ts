import { describe, expect, it } from 'vitest'
import type { Check } from '../src/api/types'
import { filterChecks, tagsOf } from '../src/stores/checks'

function check(over: Partial<Check>): Check {
  return {
    name: 'job', slug: 'job', tags: '', desc: '', grace: 60, n_pings: 0, status: 'up', started: false,
    last_ping: null, next_ping: null, manual_resume: false, methods: '', min_duration: null,
    max_duration: null, min_interval: null, recovery_threshold: 1, uuid: crypto.randomUUID(),
    subject: '', subject_fail: '', start_kw: '', success_kw: '', failure_kw: '', filter_subject: false,
    filter_body: false, filter_http_body: false, filter_default_fail: false, badge_url: '',
    detection: true, sensitivity: 'normal', ...over,
  }
}

const backup = check({ name: 'Nightly backup', slug: 'backup', tags: 'prod db', status: 'down', last_ping: '2026-12-01T03:00:00Z', next_ping: '2026-12-02T03:00:00Z' })
const report = check({ name: 'Report mailer', slug: 'report', tags: 'prod', status: 'up', last_ping: '2026-12-01T08:00:00Z', next_ping: '2026-12-01T09:00:00Z' })
const cleanup = check({ name: 'Cleanup', slug: 'tmp-clean', tags: 'staging', status: 'paused' })
const all = [backup, report, cleanup]
const base = { search: '', tags: [], statuses: [], sort: 'name' as const }

describe('the checks list filters', () => {
  it('searches names and slugs, case-insensitively', () => {
    expect(filterChecks(all, { ...base, search: 'BACK' })).toEqual([backup])
    expect(filterChecks(all, { ...base, search: 'tmp' })).toEqual([cleanup])
  })

  it('filters by tag and by status', () => {
    expect(filterChecks(all, { ...base, tags: ['prod'] }).map((c) => c.slug)).toEqual(['backup', 'report'])
    expect(filterChecks(all, { ...base, tags: ['prod', 'db'] })).toEqual([backup])
    expect(filterChecks(all, { ...base, statuses: ['paused'] })).toEqual([cleanup])
  })

  it('sorts by name, worst status first, newest last ping, soonest next ping', () => {
    const slugs = (sort: 'name' | 'status' | 'last_ping' | 'next_ping') => filterChecks(all, { ...base, sort }).map((c) => c.slug)
    expect(slugs('name')).toEqual(['tmp-clean', 'backup', 'report'])
    expect(slugs('status')).toEqual(['backup', 'report', 'tmp-clean'])
    expect(slugs('last_ping')).toEqual(['report', 'backup', 'tmp-clean'])
    expect(slugs('next_ping')).toEqual(['report', 'backup', 'tmp-clean'])
  })

  it('reads tags separated by any whitespace', () => {
    expect(tagsOf({ tags: ' prod  db ' })).toEqual(['prod', 'db'])
  })
})
