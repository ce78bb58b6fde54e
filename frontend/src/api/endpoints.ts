/**
 * Every call the dashboard makes, by name, through the typed client. Pages and stores
 * use these, never a URL. Project-scoped calls take the project's uuid (X-Project).
 */
import { client, inProject, unwrap, unwrapFresh } from './client'
import type {
  AssignmentSettings,
  ChannelChange,
  ChannelInput,
  CheckInput,
  Flip,
  Role,
  WindowInput,
} from './types'

const key = (uuid: string) => ({ path: { key: uuid } })

// --- auth and account -----------------------------------------------------------------

export const auth = {
  register: (email: string, password: string) =>
    unwrap(client.POST('/api/v3/auth/register', { body: { email, password } })),
  signIn: (email: string, password: string) =>
    unwrap(client.POST('/api/v3/auth/signin', { body: { email, password } })),
  signInSecondStep: (factor: { code: string } | { recovery_code: string }) =>
    unwrap(client.POST('/api/v3/auth/signin/totp', { body: factor })),
  signOut: () => unwrap(client.POST('/api/v3/auth/signout')),
  signOutEverywhere: () => unwrap(client.POST('/api/v3/auth/signout-everywhere')),
  requestPasswordReset: (email: string) =>
    unwrap(client.POST('/api/v3/auth/password-reset', { body: { email } })),
  confirmPasswordReset: (token: string, password: string) =>
    unwrap(client.POST('/api/v3/auth/password-reset/confirm', { body: { token, password } })),
  verifyEmail: (token: string) => unwrap(client.POST('/api/v3/auth/verify-email', { body: { token } })),
}

export const account = {
  get: () => unwrap(client.GET('/api/v3/account')),
  resendVerification: () => unwrap(client.POST('/api/v3/account/verify-email/resend')),
  changePassword: (current_password: string, new_password: string) =>
    unwrap(client.POST('/api/v3/account/password', { body: { current_password, new_password } })),
  delete: (password: string) => unwrap(client.POST('/api/v3/account/delete', { body: { password } })),
  startTotp: () => unwrap(client.POST('/api/v3/account/totp/setup')),
  confirmTotp: (password: string, code: string) =>
    unwrap(client.POST('/api/v3/account/totp/confirm', { body: { password, code } })),
  disableTotp: (password: string, factor: { code?: string; recovery_code?: string }) =>
    unwrap(client.POST('/api/v3/account/totp/disable', { body: { password, ...factor } })),
}

// --- projects ---------------------------------------------------------------------------

const project = (uuid: string) => ({ path: { project: uuid } })

export const projects = {
  list: async () => (await unwrap(client.GET('/api/v3/projects'))).projects,
  create: (name: string) => unwrap(client.POST('/api/v3/projects', { body: { name } })),
  rename: (uuid: string, name: string) =>
    unwrap(client.POST('/api/v3/projects/{project}', { params: project(uuid), body: { name } })),
  delete: (uuid: string) => unwrap(client.DELETE('/api/v3/projects/{project}', { params: project(uuid) })),
  members: async (uuid: string) =>
    (await unwrap(client.GET('/api/v3/projects/{project}/members', { params: project(uuid) }))).members,
  invite: (uuid: string, email: string, role: Exclude<Role, 'owner'>) =>
    unwrap(client.POST('/api/v3/projects/{project}/members', { params: project(uuid), body: { email, role } })),
  removeMember: (uuid: string, email: string) =>
    unwrap(client.POST('/api/v3/projects/{project}/members/remove', { params: project(uuid), body: { email } })),
  keys: async (uuid: string) =>
    (await unwrap(client.GET('/api/v3/projects/{project}/keys', { params: project(uuid) }))).keys,
  createKey: (uuid: string, name: string, read_only: boolean) =>
    unwrap(client.POST('/api/v3/projects/{project}/keys', { params: project(uuid), body: { name, read_only } })),
  revokeKey: (uuid: string, id: number) =>
    unwrap(
      client.DELETE('/api/v3/projects/{project}/keys/{key_id}', {
        params: { path: { project: uuid, key_id: String(id) } },
      }),
    ),
  pingKey: (uuid: string) => unwrap(client.GET('/api/v3/projects/{project}/ping-key', { params: project(uuid) })),
  rotatePingKey: (uuid: string) =>
    unwrap(client.POST('/api/v3/projects/{project}/ping-key/rotate', { params: project(uuid) })),
}

// --- checks -----------------------------------------------------------------------------

export const checks = {
  /** The project's checks; with the previous ETag, a 304 says nothing changed. */
  list: (projectUuid: string, etag: string | null) =>
    unwrapFresh(client.GET('/api/v3/checks', { headers: inProject(projectUuid, etag) }), etag),
  get: (p: string, uuid: string) =>
    unwrap(client.GET('/api/v3/checks/{key}', { params: key(uuid), headers: inProject(p) })),
  create: (p: string, body: CheckInput) =>
    unwrap(client.POST('/api/v3/checks', { body, headers: inProject(p) })),
  update: (p: string, uuid: string, body: CheckInput) =>
    unwrap(client.POST('/api/v3/checks/{key}', { params: key(uuid), body, headers: inProject(p) })),
  delete: (p: string, uuid: string) =>
    unwrap(client.DELETE('/api/v3/checks/{key}', { params: key(uuid), headers: inProject(p) })),
  pause: (p: string, uuid: string) =>
    unwrap(client.POST('/api/v3/checks/{key}/pause', { params: key(uuid), headers: inProject(p) })),
  resume: (p: string, uuid: string) =>
    unwrap(client.POST('/api/v3/checks/{key}/resume', { params: key(uuid), headers: inProject(p) })),
  /** The check page in one request: the check, pings, flips, deliveries, channels, windows. */
  summary: (p: string, uuid: string) =>
    unwrap(client.GET('/api/v3/checks/{key}/summary', { params: key(uuid), headers: inProject(p) })),
  /** Finished and running runs from the history store, newest first (for the chart). */
  runs: async (p: string, uuid: string, limit: number) =>
    (
      await unwrap(
        client.GET('/api/v3/checks/{key}/runs', { params: { ...key(uuid), query: { limit } }, headers: inProject(p) }),
      )
    ).runs,
  /** Changes in the check's pattern that detection noticed, newest first. */
  anomalies: (p: string, uuid: string) =>
    unwrap(client.GET('/api/v3/checks/{key}/anomalies', { params: key(uuid), headers: inProject(p) })),
  markExpected: (p: string, uuid: string, anomaly: string) =>
    unwrap(
      client.POST('/api/v3/checks/{key}/anomalies/{anomaly}/expected', {
        params: { path: { key: uuid, anomaly } },
        headers: inProject(p),
      }),
    ),
  pings: async (p: string, uuid: string) =>
    (await unwrap(client.GET('/api/v3/checks/{key}/pings', { params: key(uuid), headers: inProject(p) }))).pings,
  /** A run's report, as text (shown as text, never as HTML). */
  pingBody: (p: string, uuid: string, n: number) =>
    unwrap(
      client.GET('/api/v3/checks/{key}/pings/{n}/body', {
        params: { path: { key: uuid, n: String(n) } },
        headers: inProject(p),
        parseAs: 'text',
      }),
    ),
  flips: async (p: string, uuid: string) => {
    // Healthchecks' bare list, or {"flips": [...]} (its newer shape): both are read.
    const found = (await unwrap(
      client.GET('/api/v3/checks/{key}/flips', { params: key(uuid), headers: inProject(p) }),
    )) as Flip[] | { flips: Flip[] }
    return Array.isArray(found) ? found : found.flips
  },
  channels: async (p: string, uuid: string) =>
    (
      await unwrap(
        client.GET('/api/v3/checks/{check}/channels', { params: { path: { check: uuid } }, headers: inProject(p) }),
      )
    ).channels,
  assign: (p: string, uuid: string, channel: string, settings: AssignmentSettings) =>
    unwrap(
      client.PUT('/api/v3/checks/{check}/channels/{channel}', {
        params: { path: { check: uuid, channel } },
        body: settings,
        headers: inProject(p),
      }),
    ),
  unassign: (p: string, uuid: string, channel: string) =>
    unwrap(
      client.DELETE('/api/v3/checks/{check}/channels/{channel}', {
        params: { path: { check: uuid, channel } },
        headers: inProject(p),
      }),
    ),
  notifications: async (p: string, uuid: string) =>
    (
      await unwrap(
        client.GET('/api/v3/checks/{check}/notifications', {
          params: { path: { check: uuid } },
          headers: inProject(p),
        }),
      )
    ).notifications,
}

// --- channels ---------------------------------------------------------------------------

const channel = (id: string) => ({ path: { channel: id } })

export const channels = {
  list: async (p: string) => (await unwrap(client.GET('/api/v3/channels', { headers: inProject(p) }))).channels,
  get: (p: string, id: string) =>
    unwrap(client.GET('/api/v3/channels/{channel}', { params: channel(id), headers: inProject(p) })),
  create: (p: string, body: ChannelInput) =>
    unwrap(client.POST('/api/v3/channels', { body, headers: inProject(p) })),
  update: (p: string, id: string, body: ChannelChange) =>
    unwrap(client.POST('/api/v3/channels/{channel}', { params: channel(id), body, headers: inProject(p) })),
  delete: (p: string, id: string) =>
    unwrap(client.DELETE('/api/v3/channels/{channel}', { params: channel(id), headers: inProject(p) })),
  test: (p: string, id: string) =>
    unwrap(client.POST('/api/v3/channels/{channel}/test', { params: channel(id), headers: inProject(p) })),
}

// --- maintenance windows ----------------------------------------------------------------

export const maintenance = {
  list: async (p: string) => (await unwrap(client.GET('/api/v3/maintenance', { headers: inProject(p) }))).windows,
  create: (p: string, body: WindowInput) =>
    unwrap(client.POST('/api/v3/maintenance', { body, headers: inProject(p) })),
  delete: (p: string, uuid: string) =>
    unwrap(client.DELETE('/api/v3/maintenance/{uuid}', { params: { path: { uuid } }, headers: inProject(p) })),
}

// --- check rules ------------------------------------------------------------------------

export const checkRules = {
  /** Every check rule the server has, with its settings (fields of a check) and reasons. */
  list: async (p: string) => (await unwrap(client.GET('/api/v3/check-rules', { headers: inProject(p) }))).rules,
}

// --- schedules --------------------------------------------------------------------------

export const schedules = {
  /** The next run times of a cron expression in a zone, computed by the server. */
  preview: async (p: string, schedule: string, tz: string, signal?: AbortSignal) =>
    (
      await unwrap(
        client.GET('/api/v3/schedule-preview', {
          params: { query: { schedule, tz, n: 5 } },
          headers: inProject(p),
          signal,
        }),
      )
    ).runs,
}
