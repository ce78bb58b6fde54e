import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import FormField from '../src/components/FormField.vue'
import StatusBadge from '../src/components/StatusBadge.vue'
import DurationInput from '../src/components/DurationInput.vue'
import RelativeTime from '../src/components/RelativeTime.vue'

describe('FormField', () => {
  it('ties its label, hint and error to the input', () => {
    const wrapper = mount(FormField, {
      props: { label: 'Grace', modelValue: '', hint: 'How late', error: 'Too small' },
    })
    const input = wrapper.get('input')
    const label = wrapper.get('label')
    expect(label.attributes('for')).toBe(input.attributes('id'))
    expect(input.attributes('aria-invalid')).toBe('true')
    const described = (input.attributes('aria-describedby') ?? '').split(' ')
    const texts = described.map((id) => wrapper.find(`[id="${id}"]`).text())
    expect(texts).toEqual(['How late', 'Too small'])
  })
})

describe('StatusBadge', () => {
  it('shows a word with the icon, never colour alone', () => {
    expect(mount(StatusBadge, { props: { status: 'grace' } }).text()).toContain('late')
    expect(mount(StatusBadge, { props: { status: 'down' } }).text()).toContain('down')
  })
})

describe('DurationInput', () => {
  it('turns an amount and a unit into seconds', async () => {
    const wrapper = mount(DurationInput, { props: { label: 'Period', modelValue: 3600 } })
    expect((wrapper.get('input').element as HTMLInputElement).value).toBe('1')
    await wrapper.get('input').setValue('90')
    await wrapper.get('select').setValue('60')
    const emitted = wrapper.emitted('update:modelValue') ?? []
    expect(emitted[emitted.length - 1]).toEqual([5400])
  })

  it('is null when emptied, for optional rules', async () => {
    const wrapper = mount(DurationInput, { props: { label: 'Max', modelValue: 60, optional: true } })
    await wrapper.get('input').setValue('')
    const emitted = wrapper.emitted('update:modelValue') ?? []
    expect(emitted[emitted.length - 1]).toEqual([null])
  })
})

describe('RelativeTime', () => {
  afterEach(() => vi.useRealTimers())

  it('shows a ping that arrived between two ticks of the shared clock as just now, not in the future', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-12-01T12:00:00Z'))
    const wrapper = mount(RelativeTime, { props: { at: '2026-12-01T11:00:00Z' } })
    expect(wrapper.text()).toBe('1 h ago')
    vi.setSystemTime(new Date('2026-12-01T12:00:06Z')) // the 10 s clock has not ticked yet
    await wrapper.setProps({ at: '2026-12-01T12:00:05Z' })
    expect(wrapper.text()).toBe('just now')
  })
})
