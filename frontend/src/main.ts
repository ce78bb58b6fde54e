import { createApp } from 'vue'
import { createPinia } from 'pinia'
import AppRoot from './AppRoot.vue'
import { router } from './router'
import './styles.css'

createApp(AppRoot).use(createPinia()).use(router).mount('#app')
