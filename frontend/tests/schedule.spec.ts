import { describe, expect, it } from 'vitest'
import { describeCron, describeSchedule, splitPeriod } from '../src/composables/schedule'

describe('schedules in words', () => {
  it('describes a cron check with its time zone', () => {
    expect(describeSchedule({ schedule: '0 3 * * *', tz: 'Europe/Riga' })).toBe('At 03:00 (Europe/Riga)')
    expect(describeSchedule({ schedule: '*/15 * * * *', tz: 'UTC' })).toBe('Every 15 minutes (UTC)')
  })

  it('describes a period check as every N units', () => {
    expect(describeSchedule({ timeout: 86400 })).toBe('every 1 day')
    expect(describeSchedule({ timeout: 900 })).toBe('every 15 min')
  })

  it('gives no words for an expression cronstrue cannot read, so the form shows the server error', () => {
    expect(describeCron('61 * * * *')).toBeNull()
    expect(describeCron('')).toBeNull()
    expect(describeSchedule({ schedule: 'not cron', tz: 'UTC' })).toBe('not cron (UTC)')
  })

  it('splits a period into the largest unit that divides it', () => {
    expect(splitPeriod(3600)).toEqual({ amount: 1, unit: 3600 })
    expect(splitPeriod(5400)).toEqual({ amount: 90, unit: 60 })
    expect(splitPeriod(172800)).toEqual({ amount: 2, unit: 86400 })
  })
})
