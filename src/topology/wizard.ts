/**
 * The `topology generate` wizard: asks only for what the flags did not give. Prompts go through an
 * injected Prompter so tests drive them programmatically; the real one wraps @inquirer/prompts
 * (loaded lazily, so a non-interactive run never loads it). The command decides whether prompting
 * is allowed at all (a TTY on stdin and stdout, and no --json).
 */
import { parseEndpoint } from '../lib/address.js';
import { InputError, InterruptedError, isSpoError } from '../lib/errors.js';
import { NETWORK_NAMES, type NetworkName } from '../lib/networks.js';
import type { Role } from './generate.js';

export interface Prompter {
  input(q: { message: string; default?: string; validate?: (value: string) => true | string }): Promise<string>;
  select<T extends string>(q: {
    message: string;
    choices: Array<{ name: string; value: T; description?: string }>;
    default?: T;
  }): Promise<T>;
  confirm(q: { message: string; default?: boolean }): Promise<boolean>;
}

/**
 * What a prompt's failure means to the user. @inquirer rejects with ExitPromptError both for Ctrl-C
 * (the terminal is raw, so no SIGINT reaches the process: readline reports it) and for end of input
 * (Ctrl-D, a closed terminal), and with AbortPromptError when our signal fired (SIGINT/SIGTERM sent
 * to the process). None of them is a bug in spo.
 */
export function promptFailure(error: unknown, question: string): unknown {
  if (!(error instanceof Error)) return error;
  if (error.name === 'AbortPromptError' || error.name === 'CancelPromptError') return new InterruptedError();
  if (error.name !== 'ExitPromptError') return error;
  if (/SIGINT|SIGTERM|SIGHUP/.test(error.message)) return new InterruptedError();
  return new InputError('WIZARD_END_OF_INPUT', `input ended at the question "${question}"`, {
    hint: 'answer every question, or give --role with --producer (relay) or --relay (producer) to run without the wizard',
  });
}

/** The real prompts (@inquirer/prompts 7) on the terminal, cancelled by the signal. */
export function inquirerPrompter(signal?: AbortSignal): Prompter {
  // Prompts on standard error, so that a topology written to standard output stays clean.
  const ctx = { output: process.stderr, ...(signal ? { signal } : {}) };
  const asking = <T>(message: string, prompt: Promise<T>): Promise<T> =>
    prompt.catch((error: unknown) => {
      throw promptFailure(error, message);
    });
  return {
    async input(q) {
      const { input } = await import('@inquirer/prompts');
      return asking(
        q.message,
        input(
          {
            message: q.message,
            ...(q.default === undefined ? {} : { default: q.default }),
            ...(q.validate ? { validate: q.validate } : {}),
          },
          ctx,
        ),
      );
    },
    async select(q) {
      const { select } = await import('@inquirer/prompts');
      return asking(
        q.message,
        select(
          { message: q.message, choices: q.choices, ...(q.default === undefined ? {} : { default: q.default }) },
          ctx,
        ),
      );
    },
    async confirm(q) {
      const { confirm } = await import('@inquirer/prompts');
      return asking(
        q.message,
        confirm({ message: q.message, ...(q.default === undefined ? {} : { default: q.default }) }, ctx),
      );
    },
  };
}

export interface WizardAnswers {
  role?: Role | undefined;
  network?: NetworkName | 'custom' | undefined;
  producers: string[];
  relays: string[];
  publicRoots?: number | undefined;
}

function addressValidator(defaultPort: number): (v: string) => true | string {
  return (v: string) => {
    const s = v.trim();
    if (s === '') return true; // empty ends a list
    if (s.startsWith('_')) return true;
    try {
      parseEndpoint(s, defaultPort);
      return true;
    } catch (error) {
      return isSpoError(error) ? error.message : String(error);
    }
  };
}

/** Asks for a list of addresses, one per prompt, until an empty answer (at most `max`). */
async function askList(p: Prompter, message: string, defaultPort: number, min: number, max = 16): Promise<string[]> {
  const out: string[] = [];
  const validate = addressValidator(defaultPort);
  for (let i = 0; i < max; i++) {
    const more = out.length >= min;
    const answer = (
      await p.input({
        message: `${message} ${out.length + 1}${more ? ' (empty to finish)' : ''}:`,
        validate: (v) => (v.trim() === '' && !more ? 'at least one address is needed' : validate(v)),
      })
    ).trim();
    if (answer === '') break;
    out.push(answer);
  }
  return out;
}

/** Fills in what is missing, asking in a fixed order: role, network, producer, relays, public roots. */
export async function runWizard(p: Prompter, given: WizardAnswers, defaultPort: number): Promise<WizardAnswers> {
  const a: WizardAnswers = { ...given, producers: [...given.producers], relays: [...given.relays] };
  if (!a.role) {
    a.role = await p.select<Role>({
      message: 'Which machine is this topology for?',
      choices: [
        { name: 'relay', value: 'relay', description: 'talks to the network and to your block producer' },
        { name: 'block producer', value: 'producer', description: 'talks only to your relays' },
      ],
    });
  }
  if (!a.network) {
    a.network = await p.select<NetworkName>({
      message: 'Network:',
      choices: NETWORK_NAMES.map((n) => ({ name: n, value: n })),
      default: 'mainnet',
    });
  }
  if (a.role === 'relay' && a.producers.length === 0) {
    a.producers = await askList(p, 'Block producer address (HOST:PORT)', defaultPort, 1, 1);
  }
  if (a.relays.length === 0) {
    a.relays =
      a.role === 'producer'
        ? await askList(p, 'Relay address (HOST:PORT)', defaultPort, 1)
        : await askList(p, "Your pool's other relay (HOST:PORT)", defaultPort, 0);
  }
  if (a.role === 'relay' && a.publicRoots === undefined) {
    const n = await p.input({
      message: 'How many public roots to draw from the registry?',
      default: '5',
      validate: (v) => (/^\d+$/.test(v.trim()) && Number(v) <= 100 ? true : 'a number from 0 to 100'),
    });
    a.publicRoots = Number(n.trim());
  }
  return a;
}

/** What is missing for a non-interactive run (the flag names), empty when nothing is. */
export function missingFlags(a: WizardAnswers): string[] {
  const missing: string[] = [];
  if (!a.role) missing.push('--role');
  if (a.role === 'relay' && a.producers.length === 0) missing.push('--producer');
  if (a.role === 'producer' && a.relays.length === 0) missing.push('--relay');
  return missing;
}
