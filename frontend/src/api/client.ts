/**
 * The one way the dashboard talks to the server: openapi-fetch over the generated
 * `paths` (schema.d.ts, from the server's OpenAPI document), same origin, with the
 * session cookie, the CSRF token echoed on unsafe methods, errors as ApiError (the
 * server said no) or OfflineError (no answer at all).
 *
 * Nothing here stores a credential: the session id is an HttpOnly cookie the script
 * never sees; the CSRF token is read from its (script-readable) cookie when needed.
 */
import createClient, { type Middleware } from 'openapi-fetch'
import { ApiError, OfflineError, errorFromReply } from './errors'
import type { paths } from './schema'

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])
const CSRF_COOKIES = ['__Host-srvpulse_csrf', 'srvpulse_csrf']

/** The CSRF token from its cookie (the `__Host-` name when cookies are Secure). */
export function csrfToken(cookies: string = document.cookie): string | null {
  const found = new Map<string, string>()
  for (const pair of cookies.split(';')) {
    const at = pair.indexOf('=')
    if (at > 0) found.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim())
  }
  for (const name of CSRF_COOKIES) {
    const value = found.get(name)
    if (value) return decodeURIComponent(value)
  }
  return null
}

type Listener = (reachable: boolean) => void
const listeners = new Set<Listener>()

/** Be told whether the last request reached the server (for the "server down" banner). */
export function onReachability(listener: Listener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

function reachable(yes: boolean): void {
  for (const listener of listeners) listener(yes)
}

const session: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method)) {
      const token = csrfToken()
      if (token) request.headers.set('X-CSRF-Token', token)
    }
    return request
  },
  onResponse({ response }) {
    // A gateway in front of a stopped server answers 502/503/504 without our JSON.
    const json = (response.headers.get('Content-Type') ?? '').includes('json')
    reachable(!([502, 503, 504].includes(response.status) && !json))
    return response
  },
  onError({ error }) {
    if (error instanceof DOMException && error.name === 'AbortError') return error
    reachable(false)
    return new OfflineError()
  },
}

export const client = createClient<paths>({ baseUrl: '', credentials: 'same-origin' })
client.use(session)

interface Outcome<T> {
  data?: T
  error?: unknown
  response: Response
}

/** The answer's data, or the server's error as an ApiError. */
export async function unwrap<T>(call: Promise<Outcome<T>>): Promise<T> {
  const { data, error, response } = await call
  if (!response.ok) throw errorFromReply(response.status, error)
  return data as T
}

export interface Fresh<T> {
  data: T
  etag: string | null
  notModified: boolean
}

/** Like unwrap, for a GET sent with If-None-Match: a 304 keeps the caller's copy. */
export async function unwrapFresh<T>(call: Promise<Outcome<T>>, etag: string | null): Promise<Fresh<T | undefined>> {
  const { data, error, response } = await call
  if (response.status === 304) return { data: undefined, etag, notModified: true }
  if (!response.ok) throw errorFromReply(response.status, error)
  return { data, etag: response.headers.get('ETag'), notModified: false }
}

/** Headers of a project-scoped call made with the session cookie. */
export function inProject(project: string, etag?: string | null): { 'X-Project': string; 'If-None-Match'?: string } {
  return etag ? { 'X-Project': project, 'If-None-Match': etag } : { 'X-Project': project }
}

export { ApiError }
