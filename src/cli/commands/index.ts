// The commands of `switchyard`, in the order its help lists them.
import type { Command } from '../switchyard-command.js';
import { offline, online } from './admin.js';
import { call } from './call.js';
import { consoleCommand } from './console.js';
import { describe } from './describe.js';
import { health } from './health.js';
import { ls } from './ls.js';
import { rules } from './rules.js';
import { watch } from './watch.js';

export const commands: readonly Command[] = [ls, describe, call, health, offline, online, watch, rules, consoleCommand];
