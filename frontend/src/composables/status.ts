/** How a status looks: an icon and a word for each, never colour alone. */
import type { Status } from '../api/types'

export const STATUS_LOOK: Record<Status, { icon: string; word: string }> = {
  up: { icon: '✓', word: 'up' },
  down: { icon: '✕', word: 'down' },
  grace: { icon: '!', word: 'late' },
  started: { icon: '▶', word: 'running' },
  new: { icon: '○', word: 'new' },
  paused: { icon: '❚❚', word: 'paused' },
}
