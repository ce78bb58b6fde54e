/**
 * The next run times of a cron expression in a zone, asked of the server (it owns the
 * time-zone rules) while the user types: debounced, the older request cancelled.
 */
import { ref, watch, type Ref } from 'vue'
import { schedules } from '../api/endpoints'
import { ApiError, messageOf } from '../api/errors'

export function useSchedulePreview(
  project: Ref<string | null>,
  schedule: Ref<string>,
  tz: Ref<string>,
  enabled: Ref<boolean>,
  delayMs = 300,
): { runs: Ref<string[]>; error: Ref<string>; field: Ref<string | null>; loading: Ref<boolean> } {
  const runs = ref<string[]>([])
  const error = ref('')
  const field = ref<string | null>(null)
  const loading = ref(false)
  let timer: ReturnType<typeof setTimeout> | null = null
  let inflight: AbortController | null = null

  async function ask(expression: string, zone: string): Promise<void> {
    inflight?.abort()
    const controller = new AbortController()
    inflight = controller
    loading.value = true
    try {
      if (!project.value) return
      runs.value = await schedules.preview(project.value, expression, zone, controller.signal)
      error.value = ''
      field.value = null
    } catch (e) {
      if (controller.signal.aborted) return
      runs.value = []
      error.value = messageOf(e).replace(/^(schedule|tz): /, '')
      field.value = e instanceof ApiError ? e.field : null
    } finally {
      if (inflight === controller) loading.value = false
    }
  }

  watch(
    [schedule, tz, enabled],
    ([expression, zone, on]) => {
      if (timer) clearTimeout(timer)
      if (!on || !expression.trim()) {
        inflight?.abort()
        runs.value = []
        error.value = ''
        field.value = null
        return
      }
      timer = setTimeout(() => void ask(expression.trim(), zone.trim() || 'UTC'), delayMs)
    },
    { immediate: true },
  )
  return { runs, error, field, loading }
}
