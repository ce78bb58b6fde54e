/**
 * The signed-in user's projects and the one the pages act in. The choice is remembered
 * in localStorage (a project's uuid, not a credential) so a reload stays there.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { projects as projectsApi } from '../api/endpoints'
import type { Project } from '../api/types'

const REMEMBERED = 'srvpulse.project'

export const useProjectsStore = defineStore('projects', () => {
  const list = ref<Project[]>([])
  const currentUuid = ref<string | null>(null)
  const loaded = ref(false)

  const current = computed<Project | null>(
    () => list.value.find((p) => p.uuid === currentUuid.value) ?? list.value[0] ?? null,
  )
  const canWrite = computed(() => current.value !== null && current.value.role !== 'readonly')

  async function load(force = false): Promise<void> {
    if (loaded.value && !force) return
    list.value = await projectsApi.list()
    const remembered = localStorage.getItem(REMEMBERED)
    const wanted = currentUuid.value ?? remembered
    currentUuid.value = list.value.find((p) => p.uuid === wanted)?.uuid ?? list.value[0]?.uuid ?? null
    loaded.value = true
  }

  function choose(uuid: string): void {
    if (!list.value.some((p) => p.uuid === uuid)) return
    currentUuid.value = uuid
    localStorage.setItem(REMEMBERED, uuid)
  }

  function replace(project: Project): void {
    list.value = list.value.map((p) => (p.uuid === project.uuid ? project : p))
  }

  function reset(): void {
    list.value = []
    currentUuid.value = null
    loaded.value = false
  }

  return { list, current, currentUuid, canWrite, loaded, load, choose, replace, reset }
})
