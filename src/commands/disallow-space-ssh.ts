import { spaceSwitch } from './ssh-switch.js';

export const run = spaceSwitch(false);
