import { describe, expect, it } from 'vitest'
import type { Check, CheckRule } from '../src/api/types'
import { describeSetting, reasonWords, ruleValues, settingsOf, withRuleValues } from '../src/composables/checkRules'

const RULES: CheckRule[] = [
  {
    name: 'durations',
    summary: 'A run shorter than min_duration or longer than max_duration is a failure.',
    settings: [
      { name: 'max_duration', title: 'Longest run allowed', label: 'Alert when a run takes longer than', hint: '', unit: 'seconds', default: null, minimum: 1, maximum: 31536000, optional: true },
      { name: 'min_duration', title: 'Shortest run allowed', label: 'Alert when a run is shorter than', hint: '', unit: 'seconds', default: null, minimum: 1, maximum: 31536000, optional: true },
    ],
    reasons: [
      { reason: 'too long', describes: 'a run took too long' },
      { reason: 'too short', describes: 'a run was too short' },
    ],
  },
  {
    name: 'retries',
    summary: 'A made-up rule with a count, as a rule added on the server later would come.',
    settings: [
      { name: 'max_retries', title: 'Retries allowed', label: 'Alert after this many retries', hint: '', unit: 'count', default: 3, minimum: 0, maximum: 10, optional: false },
    ],
    reasons: [],
  },
]

describe('check rules from the server catalog', () => {
  it('reads every setting of a check by name, defaults for settings the check does not show', () => {
    const check = { name: 'job', max_duration: 1800, min_duration: null } as unknown as Check
    expect(ruleValues(check, RULES)).toEqual({ max_duration: 1800, min_duration: null, max_retries: 3 })
    expect(ruleValues(null, RULES)).toEqual({ max_duration: null, min_duration: null, max_retries: 3 })
    expect(settingsOf(RULES).map((s) => s.name)).toEqual(['max_duration', 'min_duration', 'max_retries'])
  })

  it('sends the settings with the other fields, a null turning a rule off', () => {
    const body = withRuleValues({ name: 'job' }, { max_duration: null, min_interval: 600 })
    expect(body).toEqual({ name: 'job', max_duration: null, min_interval: 600 })
  })

  it('words a value by its unit and the reasons of every rule', () => {
    const [longest, , retries] = settingsOf(RULES)
    if (!longest || !retries) throw new Error('the catalog above has three settings')
    expect(describeSetting(longest, 1800)).toBe('30 min')
    expect(describeSetting(longest, null)).toBe('off')
    expect(describeSetting(retries, 2)).toBe('2')
    expect(reasonWords(RULES)).toEqual({ 'too long': 'a run took too long', 'too short': 'a run was too short' })
  })
})
