/** Errors of the API, in the server's shape: `{"error": "...", "field": "..."}`. */

export class ApiError extends Error {
  readonly status: number
  readonly field: string | null

  constructor(status: number, message: string, field: string | null = null) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.field = field
  }
}

/** The server could not be reached at all (down, or the network is). */
export class OfflineError extends Error {
  constructor() {
    super('srvpulse cannot be reached. Retrying…')
    this.name = 'OfflineError'
  }
}

/** Parse an error reply; anything else (an HTML 502 page from a proxy) gets a plain sentence. */
export function errorFromReply(status: number, body: unknown): ApiError {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const { error, field } = body as { error: unknown; field?: unknown }
    return new ApiError(
      status,
      typeof error === 'string' ? error : `request failed (${status})`,
      typeof field === 'string' && field ? field : null,
    )
  }
  if (status >= 500) return new ApiError(status, `srvpulse had a problem (${status}); try again.`)
  return new ApiError(status, `request failed (${status})`)
}

/** What a page shows for an error: the server's message, or why we could not ask. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError || error instanceof OfflineError) return error.message
  if (error instanceof Error) return error.message
  return String(error)
}

/**
 * Field errors for a form. The server names the field (`timeout`, `config.to`,
 * `config.down.url`); a message often starts with the field's name ("timeout: Input
 * should be..."), which the field's label already says, so it is dropped.
 * Errors naming no field (or a field the form does not have) go under `form`.
 */
export function fieldErrors(error: unknown, fields: readonly string[]): Record<string, string> {
  if (!(error instanceof ApiError)) return { form: messageOf(error) }
  const field = error.field
  if (field && fields.includes(field)) {
    const prefix = `${field}: `
    const text = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message
    return { [field]: text.charAt(0).toUpperCase() + text.slice(1) }
  }
  return { form: error.message }
}
