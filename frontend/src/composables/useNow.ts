/** A clock for relative times ("5 min ago"): one shared timer ticking every 10 s. */
import { onBeforeUnmount, ref, type Ref } from 'vue'

const now = ref(Date.now())
let users = 0
let timer: ReturnType<typeof setInterval> | null = null

export function useNow(): Ref<number> {
  users += 1
  if (timer === null) timer = setInterval(() => (now.value = Date.now()), 10_000)
  now.value = Date.now()
  onBeforeUnmount(() => {
    users -= 1
    if (users === 0 && timer !== null) {
      clearInterval(timer)
      timer = null
    }
  })
  return now
}
