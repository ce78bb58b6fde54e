/**
 * Call `tick` every `intervalMs` while the component lives and the tab is visible, and
 * at once when the tab becomes visible again. One tick at a time: a slow answer is
 * never overtaken by the next request.
 */
import { onBeforeUnmount, onMounted } from 'vue'

export function usePolling(tick: () => Promise<void>, intervalMs: number): { now: () => Promise<void> } {
  let timer: ReturnType<typeof setTimeout> | null = null
  // One object, not two lets: the flags change in callbacks the type checker cannot see.
  const state = { running: false, stopped: false }
  const stopped = (): boolean => state.stopped

  async function run(): Promise<void> {
    if (timer) clearTimeout(timer)
    timer = null
    if (state.stopped || state.running) return
    state.running = true
    try {
      await tick()
    } catch {
      // The tick shows its own errors; polling goes on (the server may come back).
    } finally {
      state.running = false
      if (!stopped() && document.visibilityState !== 'hidden') {
        timer = setTimeout(() => void run(), intervalMs)
      }
    }
  }

  function onVisibility(): void {
    if (document.visibilityState === 'visible') void run()
  }

  onMounted(() => {
    document.addEventListener('visibilitychange', onVisibility)
    void run()
  })
  onBeforeUnmount(() => {
    state.stopped = true
    if (timer) clearTimeout(timer)
    document.removeEventListener('visibilitychange', onVisibility)
  })
  return { now: run }
}
