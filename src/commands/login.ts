import { clientsFor, findLogin } from '../actions/cf-clients.js';
import { authenticate, describeApi, type LoginCredentials, normalizeApi } from '../actions/login.js';
import { findOrg, findSpace } from '../actions/lookup.js';
import { targetSpace } from '../actions/target.js';
import type { Resource } from '../cf/cloud-controller.js';
import type { StoredLogin } from '../config/login.js';
import type { Context } from '../context.js';
import { UsageError, UserError } from '../errors.js';
import { passcodeUrl } from '../uaa/client.js';
import type { CommandInput, CommandRun } from './command-spec.js';
import type { SPECS } from './specs.js';
import { printTarget } from './target-summary.js';

type LoginOptions = CommandInput<typeof SPECS.login>['options'];

const PASSWORD_ATTEMPTS = 3;

export const run: CommandRun<typeof SPECS.login> = async (ctx, { options }) => {
  const exclusive = [options.sso && '--sso', options.ssoPasscode && '--sso-passcode', options.clientCredentials && '--client-credentials'];
  if (exclusive.filter(Boolean).length > 1) {
    throw new UsageError(`The following arguments cannot be used together: ${exclusive.filter(Boolean).join(', ')}`);
  }

  const previous = (await findLogin(ctx))?.login;
  const api = normalizeApi(options.api ?? previous?.api ?? (await ctx.term.prompt('API endpoint: ')));
  ctx.term.out(`API endpoint: ${api}`);
  ctx.term.out();
  if (api.startsWith('http:')) ctx.term.err('Warning: Insecure http API endpoint detected: secure https API endpoints are recommended');
  const sslDisabled = options.skipSslValidation || (previous?.api === api && previous.sslDisabled);
  const state = await describeApi(ctx, api, sslDisabled, ctx.term.notice);

  await logIn(ctx, state, options);
  await ctx.ownLogin.save(state);
  if (ctx.ownLogin.fellBackToFile) {
    ctx.term.err(`Notice: no OS keychain is usable here (${ctx.ownLogin.vault.keychainFailure}); tokens are kept in ${ctx.ownLogin.vault.file} (mode 0600).`);
  }

  await chooseTarget(ctx, state, options);
  await ctx.ownLogin.save(state);
  printTarget(ctx, state);
};

async function logIn(ctx: Context, state: StoredLogin, options: LoginOptions): Promise<void> {
  const { term } = ctx;
  if (options.clientCredentials) {
    const clientId = options.username ?? (await term.prompt('Client ID: '));
    const clientSecret = options.password ?? (await term.prompt('Client secret: ', { secret: true }));
    term.out();
    term.out('Authenticating...');
    await authenticate(ctx, state, { kind: 'client', clientId, clientSecret });
  } else if (options.sso || options.ssoPasscode) {
    const passcode = options.ssoPasscode ?? (await term.prompt(`Temporary Authentication Code ( Get one at ${passcodeUrl(state.authorizationEndpoint)} ): `, { secret: true }));
    term.out('Authenticating...');
    await authenticate(ctx, state, { kind: 'passcode', passcode });
  } else {
    const username = options.username ?? (await term.prompt('Email: '));
    const attempts = options.password === undefined ? PASSWORD_ATTEMPTS : 1;
    for (let attempt = 1; ; attempt += 1) {
      const password = options.password ?? (await term.prompt('Password: ', { secret: true }));
      term.out();
      term.out('Authenticating...');
      const credentials: LoginCredentials = { kind: 'password', username, password, origin: options.origin };
      try {
        await authenticate(ctx, state, credentials);
        break;
      } catch (err) {
        if (attempt >= attempts || !(err instanceof UserError)) throw err;
        term.err(err.message);
        term.out();
      }
    }
  }
  term.ok();
  if (options.sso || options.ssoPasscode) term.out();
}

async function chooseTarget(ctx: Context, state: StoredLogin, options: LoginOptions): Promise<void> {
  const { cc } = clientsFor(ctx, ctx.ownLogin, state, ctx.term.notice);
  const org = options.org ? await findOrg(cc, options.org) : await pick(ctx, 'org', await cc.organizations());
  if (!org) return;
  state.org = { guid: org.guid, name: org.name };
  ctx.term.out(`Targeted org ${org.name}.`);
  ctx.term.out();
  const space = options.space ? await findSpace(cc, org.guid, options.space) : await pick(ctx, 'space', await cc.spaces(org.guid));
  if (!space) return;
  await targetSpace(cc, state, space);
  ctx.term.out(`Targeted space ${space.name}.`);
  ctx.term.out();
}

/** The only choice, or the user's from a numbered list when there is a terminal to ask on. */
async function pick<T extends Resource>(ctx: Context, what: 'org' | 'space', choices: T[]): Promise<T | undefined> {
  if (choices.length === 1) return choices[0];
  if (choices.length === 0 || !ctx.term.stdinIsTTY) return undefined;
  ctx.term.out();
  ctx.term.out(`Select ${what === 'org' ? 'an org' : 'a space'}:`);
  choices.forEach((choice, i) => ctx.term.out(`${i + 1}. ${choice.name}`));
  ctx.term.out();
  const label = what === 'org' ? 'Org' : 'Space';
  const answer = (await ctx.term.prompt(`${label} (enter to skip): `)).trim();
  if (!answer) return undefined;
  const byNumber = /^\d+$/.test(answer) ? choices[Number(answer) - 1] : undefined;
  const chosen = byNumber ?? choices.find((c) => c.name === answer);
  if (!chosen) throw new UserError(`${label} '${answer}' is not one of the choices.`);
  return chosen;
}
