/** Whether the server answers: drives the "srvpulse cannot be reached" banner. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { onReachability } from '../api/client'

export const useConnectionStore = defineStore('connection', () => {
  const reachable = ref(true)
  onReachability((yes) => {
    reachable.value = yes
  })
  return { reachable }
})
