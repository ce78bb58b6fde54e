/**
 * The dashboard's addresses (history mode: the server answers index.html for each).
 * Mailed and alert links land here: /checks/<uuid>, /channels, /reset-password#token=,
 * /verify-email#token=, /invitation. Pages are loaded on first visit (own chunks).
 */
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useProjectsStore } from '../stores/projects'
import { useSessionStore } from '../stores/session'
import { useBootStore } from '../stores/boot'
import { useChecksStore } from '../stores/checks'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without a session (sign-in, reset, verify...). */
    public?: boolean
    /** A page for signed-out people only: a signed-in visitor goes to the checks. */
    guestOnly?: boolean
    title: string
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/checks', meta: { title: 'Checks' } },
  {
    path: '/signin',
    component: () => import('../pages/SignInPage.vue'),
    meta: { public: true, guestOnly: true, title: 'Sign in' },
  },
  {
    path: '/signup',
    component: () => import('../pages/SignUpPage.vue'),
    meta: { public: true, guestOnly: true, title: 'Create an account' },
  },
  {
    path: '/forgot-password',
    component: () => import('../pages/ForgotPasswordPage.vue'),
    meta: { public: true, title: 'Forgot password' },
  },
  {
    path: '/reset-password',
    component: () => import('../pages/ResetPasswordPage.vue'),
    meta: { public: true, title: 'Choose a new password' },
  },
  {
    path: '/verify-email',
    component: () => import('../pages/VerifyEmailPage.vue'),
    meta: { public: true, title: 'Confirm your address' },
  },
  {
    path: '/invitation',
    component: () => import('../pages/InvitationPage.vue'),
    meta: { public: true, title: 'Invitation' },
  },
  { path: '/checks', component: () => import('../pages/ChecksPage.vue'), meta: { title: 'Checks' } },
  {
    path: '/checks/new',
    component: () => import('../pages/CheckEditPage.vue'),
    meta: { title: 'New check' },
  },
  {
    path: '/checks/:uuid',
    component: () => import('../pages/CheckPage.vue'),
    props: true,
    meta: { title: 'Check' },
  },
  {
    path: '/checks/:uuid/edit',
    component: () => import('../pages/CheckEditPage.vue'),
    props: true,
    meta: { title: 'Edit check' },
  },
  {
    path: '/channels',
    component: () => import('../pages/ChannelsPage.vue'),
    meta: { title: 'Channels' },
  },
  {
    path: '/channels/new',
    component: () => import('../pages/ChannelEditPage.vue'),
    meta: { title: 'New channel' },
  },
  {
    path: '/channels/:id',
    component: () => import('../pages/ChannelEditPage.vue'),
    props: true,
    meta: { title: 'Channel' },
  },
  {
    path: '/maintenance',
    component: () => import('../pages/MaintenancePage.vue'),
    meta: { title: 'Maintenance windows' },
  },
  {
    path: '/account',
    component: () => import('../pages/AccountPage.vue'),
    meta: { title: 'Account' },
  },
  {
    path: '/project',
    component: () => import('../pages/ProjectPage.vue'),
    meta: { title: 'Project settings' },
  },
  {
    path: '/:pathMatch(.*)*',
    component: () => import('../pages/NotFoundPage.vue'),
    meta: { public: true, title: 'Not found' },
  },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
})

router.beforeEach(async (to) => {
  const session = useSessionStore()
  const boot = useBootStore()
  try {
    await session.load()
    if (session.signedIn) {
      const projects = useProjectsStore()
      await projects.load()
      // The list's request starts now, while the page's code is still loading.
      if (to.path === '/checks' && projects.current) {
        useChecksStore().refresh(projects.current.uuid).catch(() => undefined)
      }
    }
    boot.error = null
  } catch (error) {
    // Server down or broken: App shows the banner and a retry; public pages still open.
    boot.error = error
    return to.meta.public ? true : undefined
  }
  if (!to.meta.public && !session.signedIn) {
    return { path: '/signin', query: to.fullPath !== '/checks' ? { next: to.fullPath } : {} }
  }
  if (to.meta.guestOnly && session.signedIn) return { path: '/checks' }
  return true
})

router.afterEach((to) => {
  document.title = `${to.meta.title} · srvpulse`
})
