import { appSwitch } from './ssh-switch.js';

export const run = appSwitch(false);
