/**
 * The token of a mailed link (`/reset-password#token=...`). It sits in the fragment so
 * it never reaches a server log; once read it is removed from the address bar too.
 */
export function hashToken(hash: string = window.location.hash): string {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  return params.get('token') ?? ''
}

export function takeHashToken(): string {
  const token = hashToken()
  if (token) history.replaceState(history.state, '', window.location.pathname + window.location.search)
  return token
}
