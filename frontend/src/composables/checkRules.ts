/**
 * The server's check rules (GET /api/v3/check-rules): the check form and the check page
 * render every rule's settings from this catalog instead of naming them, so a rule added
 * on the server shows up here without a dashboard change.
 */
import { checkRules as checkRulesApi } from '../api/endpoints'
import type { Check, CheckInput, CheckRule, CheckRuleSetting } from '../api/types'
import { formatDuration } from './format'

export type RuleValues = Record<string, number | null>

let catalog: Promise<CheckRule[]> | null = null

/** The catalog, asked once per page load (it changes only with the server's version). */
export function loadCheckRules(project: string): Promise<CheckRule[]> {
  catalog ??= checkRulesApi.list(project).catch((error: unknown) => {
    catalog = null // asked again next time
    throw error
  })
  return catalog
}

export function settingsOf(rules: readonly CheckRule[]): CheckRuleSetting[] {
  return rules.flatMap((rule) => rule.settings)
}

/** A check's value of each setting (null: off), by setting name. */
export function ruleValues(check: Check | null, rules: readonly CheckRule[]): RuleValues {
  const fields = check as Record<string, unknown> | null
  const values: RuleValues = {}
  for (const setting of settingsOf(rules)) {
    const value = fields?.[setting.name]
    values[setting.name] = typeof value === 'number' ? value : setting.default
  }
  return values
}

/** ``input`` with the rule settings the form holds. */
export function withRuleValues(input: CheckInput, values: RuleValues): CheckInput {
  return { ...input, ...values }
}

/** A setting's value in words: "30 min", "3", or "off". */
export function describeSetting(setting: CheckRuleSetting, value: number | null): string {
  if (value === null) return 'off'
  return setting.unit === 'seconds' ? formatDuration(value) : String(value)
}

/** What each rule's flip reasons mean, for the list of status changes. */
export function reasonWords(rules: readonly CheckRule[]): Record<string, string> {
  return Object.fromEntries(rules.flatMap((rule) => rule.reasons.map((r) => [r.reason, r.describes])))
}
