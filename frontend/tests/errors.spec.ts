import { describe, expect, it } from 'vitest'
import { ApiError, OfflineError, errorFromReply, fieldErrors } from '../src/api/errors'

describe('API errors at the fields', () => {
  it('puts a field error under its field without repeating the field name', () => {
    const error = new ApiError(400, 'timeout: Input should be a valid integer', 'timeout')
    expect(fieldErrors(error, ['name', 'timeout'])).toEqual({ timeout: 'Input should be a valid integer' })
  })

  it('keeps dotted channel fields as the form names them', () => {
    const error = new ApiError(400, 'config.down.url: must be an http(s) URL', 'config.down.url')
    expect(fieldErrors(error, ['config.down.url'])).toEqual({ 'config.down.url': 'Must be an http(s) URL' })
  })

  it('shows an error for a field the form does not have, or for none, at the form', () => {
    expect(fieldErrors(new ApiError(409, 'slug taken', 'unique'), ['name'])).toEqual({ form: 'slug taken' })
    expect(fieldErrors(new ApiError(403, 'read-only member'), ['name'])).toEqual({ form: 'read-only member' })
    expect(fieldErrors(new OfflineError(), ['name']).form).toMatch(/cannot be reached/)
  })

  it('reads the server JSON error shape and survives a proxy HTML page', () => {
    const parsed = errorFromReply(400, { error: 'wrong password', field: 'password' })
    expect([parsed.status, parsed.message, parsed.field]).toEqual([400, 'wrong password', 'password'])
    expect(errorFromReply(502, '<html>Bad Gateway</html>').message).toMatch(/problem \(502\)/)
  })
})
