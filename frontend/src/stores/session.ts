/** Who is signed in. The session itself is an HttpOnly cookie; this only mirrors the account. */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { ApiError } from '../api/errors'
import { account as accountApi, auth } from '../api/endpoints'
import type { Account, SignedIn } from '../api/types'

export const useSessionStore = defineStore('session', () => {
  const account = ref<Account | null>(null)
  /** Sign-in passed the password, a TOTP code or recovery code is still due. */
  const secondStepFor = ref<string | null>(null)
  const loaded = ref(false)

  const signedIn = computed(() => account.value !== null)

  /** Ask the server who we are (once per page load, and after sign-in). */
  async function load(force = false): Promise<Account | null> {
    if (loaded.value && !force) return account.value
    try {
      account.value = await accountApi.get()
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) throw error
      account.value = null
    }
    loaded.value = true
    return account.value
  }

  async function finish(result: SignedIn): Promise<boolean> {
    if (result.totp_required) {
      secondStepFor.value = result.user.email
      return false
    }
    secondStepFor.value = null
    await load(true)
    return true
  }

  /** True when signed in; false when a second factor is still needed. */
  async function signIn(email: string, password: string): Promise<boolean> {
    return finish(await auth.signIn(email, password))
  }

  async function secondStep(factor: { code: string } | { recovery_code: string }): Promise<boolean> {
    return finish(await auth.signInSecondStep(factor))
  }

  /**
   * Create the account. True when the server also signed us in; false when it only
   * mailed the confirmation link (the link then signs in).
   */
  async function register(email: string, password: string): Promise<boolean> {
    const result: unknown = await auth.register(email, password)
    if (typeof result === 'object' && result !== null && 'user' in result) {
      return finish(result as SignedIn)
    }
    return false
  }

  function forget(): void {
    account.value = null
    secondStepFor.value = null
    loaded.value = true
  }

  async function signOut(everywhere = false): Promise<void> {
    try {
      await (everywhere ? auth.signOutEverywhere() : auth.signOut())
    } catch (error) {
      // Already signed out on the server: the same outcome.
      if (!(error instanceof ApiError && error.status === 401)) throw error
    }
    forget()
  }

  return { account, secondStepFor, loaded, signedIn, load, signIn, secondStep, register, signOut, forget }
})
