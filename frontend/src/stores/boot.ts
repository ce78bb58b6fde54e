/** Why the app could not start (the server did not answer who we are): shown with a retry. */
import { defineStore } from 'pinia'
import { ref } from 'vue'

export const useBootStore = defineStore('boot', () => {
  const error = ref<unknown>(null)
  return { error }
})
