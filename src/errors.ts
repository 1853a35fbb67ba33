// Typed errors and the one mapping from an error to what the user sees and the exit code.
import { constants } from 'node:os';

/** Something the user can fix; the message says what to do. Printed, then FAILED, exit 1. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Arguments that parse but do not fit (too many, flags that exclude each other): cf's "Incorrect Usage". */
export class UsageError extends UserError {
  constructor(message: string) {
    super(`Incorrect Usage: ${message}`);
  }
}

export class NotLoggedInError extends UserError {
  constructor(bin: string) {
    super(`Not logged in. Use '${bin} login' or '${bin} login --sso' to log in.`);
  }
}

export class NoOrgTargetedError extends UserError {
  constructor(bin: string) {
    super(`No org targeted, use '${bin} target -o ORG' to target an org.`);
  }
}

export class NoSpaceTargetedError extends UserError {
  constructor(bin: string) {
    super(`No space targeted, use '${bin} target -s SPACE' to target a space.`);
  }
}

export class NoApiEndpointError extends UserError {
  constructor(bin: string) {
    super(`No API endpoint set. Use '${bin} login -a API_URL' to set one.`);
  }
}

/** The refresh token is no longer accepted: the user must log in again (cf's wording). */
export class RefreshTokenError extends UserError {
  constructor() {
    super('The token expired, was revoked, or the token ID is incorrect. Please log back in to re-authenticate.');
  }
}

export class NotFoundError extends UserError {}

/** One error object of the Cloud Controller's `{"errors":[...]}` body. */
export interface CcErrorItem {
  code: number;
  title: string;
  detail: string;
}

/** A Cloud Controller answer that is an error. */
export class CfApiError extends UserError {
  constructor(
    readonly status: number,
    readonly errors: CcErrorItem[],
    readonly requestPath: string,
  ) {
    super(CfApiError.describe(status, errors, requestPath));
  }

  get title(): string | undefined {
    return this.errors[0]?.title;
  }

  /** CC's own words, as cf shows them. */
  private static describe(status: number, errors: CcErrorItem[], path: string): string {
    const details = errors.map((e) => e.detail || e.title);
    const [only] = details;
    if (only !== undefined && details.length === 1) return only;
    if (details.length > 1) return ['Multiple errors occurred:', ...details.map((d) => `- ${d}`)].join('\n');
    if (status === 403) return 'You are not authorized to perform the requested action';
    return `The Cloud Controller answered ${path} with HTTP ${status}.`;
  }
}

/** 128 + the signal's number, as shells report a process killed by a signal. */
export function signalExitCode(signal: string): number {
  const number = constants.signals[`SIG${signal.replace(/^SIG/, '')}` as keyof typeof constants.signals];
  return 128 + (number ?? 0);
}

/**
 * A run that was stopped and has cleaned up: nothing more to say. A signal's exit status is
 * 128 + its number (the entry point then dies by the signal itself); stdout closed by its
 * reader is 141, as for ssh and cf killed by SIGPIPE.
 */
export class StoppedError extends UserError {
  constructor(readonly signal: NodeJS.Signals | 'SIGPIPE') {
    super('', signalExitCode(signal));
  }
}

/** The Cloud Controller or UAA could not be reached at all. */
export class NetworkError extends UserError {}

/** A server's answer broke a bound cf-ssh-tools holds requests to: time, size, pages, waits. */
export class LimitError extends UserError {}

/** A server's answer cf-ssh-tools cannot read: a field missing or of the wrong type, or no JSON at all. */
export class UnexpectedAnswerError extends UserError {
  constructor(answer: string, problem: string) {
    super(`${answer} is not what cf-ssh-tools understands: ${problem}.`);
  }
}

/** A link the Cloud Controller gave that leads outside the foundation: refused before anything is sent. */
export class OutsideFoundationError extends UserError {
  constructor(
    readonly url: string,
    foundation: readonly string[],
  ) {
    super(`The Cloud Controller pointed to ${url}, outside this foundation (${foundation.join(', ')}): not followed.`);
  }
}

/** The message and exit code a caught error becomes; unknown errors keep their message, no stack. */
export function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof UserError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof Error) return { message: `Unexpected error: ${err.message}`, exitCode: 1 };
  return { message: `Unexpected error: ${String(err)}`, exitCode: 1 };
}
