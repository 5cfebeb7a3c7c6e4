// Entry point of the web app.

import { App } from './app.js';
import { lang } from './i18n.js';

document.documentElement.lang = lang;
const app = new App(document.getElementById('app'));
app.boot();
