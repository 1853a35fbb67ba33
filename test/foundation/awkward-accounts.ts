// Accounts whose user names and passwords hold what breaks a value written into a format
// without its escapes, or into a template: quotes, backslashes, `$`, backticks, `#`, `;`, `=`,
// `{dir}`, URL syntax, spaces at both ends, newline, CR, tab, non-ASCII, emoji, and payloads
// that run a command wherever they are not taken as plain data. Each database server creates
// them when it starts (databases.ts); tests log in as them through every way cf-ssh-tools hands
// credentials to a client. A server that cannot hold a value gets the nearest one it can hold.
import type { DatabaseKind } from './databases.js';

export interface AwkwardAccount {
  /** What its values put to the test, for the tests' names. */
  about: string;
  username: string;
  password: string;
}

/** The file every payload creates: a relative name, so it lands in the working folder of whatever runs it. */
export const CANARY = 'CANARY';

const QUOTES = {
  about: 'quotes, backslash, $, backtick, #, ;, =, {dir}, URL syntax and spaces at both ends',
  username: `  o'brien "q" \\ $USER #;= {dir} :@/?%41  `,
  password: `  p'a"s\\s $HOME \`id\` #;={dir} &?@:/%41%zz+  `,
};

const CONTROL = {
  about: 'newline, carriage return and tab',
  username: 'line\nbreak\r\ttab',
  password: '\tfirst\nsecond\r\nthird\n',
};

const NON_ASCII = {
  about: 'non-ASCII and emoji',
  username: 'jürgen-日本-🦄',
  password: 'pässwörd-ß-日本語-🔑🦄',
};

const INJECTION = {
  about: 'payloads for a shell, an option file, psql and a mongosh script',
  // No spaces: Redis holds it too. ${IFS} is the space a shell would put there.
  username: `$(touch\${IFS}${CANARY})\`touch\${IFS}${CANARY}\``,
  password: [
    'x',
    // The next option of a MySQL option file written without escapes.
    `pager=touch ${CANARY} #`,
    // A string of a mongosh script written without JSON's escapes (mongosh's scripts have require).
    `");require("child_process").execSync("touch ${CANARY}");("`,
    // A psql meta-command, should the value reach psql's input.
    `\\! touch ${CANARY}`,
    `$(touch ${CANARY}) \`touch ${CANARY}\``,
  ].join('\n'),
};

/** Redis refuses user names with white space (ACL SETUSER: "Usernames can't contain spaces or null characters"). */
const withoutSpaces = (name: string) => name.replace(/\s+/g, '');

export const AWKWARD_ACCOUNTS: Record<DatabaseKind, readonly AwkwardAccount[]> = {
  postgres: [QUOTES, CONTROL, NON_ASCII, INJECTION],
  mysql: [
    // MariaDB keeps user names in a CHAR column, which drops trailing spaces (a login with them
    // works only until the privileges are read again), and in utf8mb3, which has no emoji.
    { ...QUOTES, username: QUOTES.username.trimEnd() },
    CONTROL,
    { ...NON_ASCII, username: 'jürgen-日本' },
    INJECTION,
  ],
  redis: [
    { ...QUOTES, username: withoutSpaces(QUOTES.username) },
    // Its control characters in the password only.
    { ...CONTROL, username: 'control-characters' },
    NON_ASCII,
    INJECTION,
  ],
};

const hex = (ch: string, digits: number) => (ch.codePointAt(0) as number).toString(16).toUpperCase().padStart(digits, '0');

/**
 * PostgreSQL's single-user mode reads a statement a line: each account's statement is printable
 * ASCII on one line, its name a U&"..." identifier and its password an E'...' string, every
 * other character a Unicode escape.
 */
export function postgresAccountStatements(accounts: readonly AwkwardAccount[]): string[] {
  const identifier = (name: string) => `U&"${name.replace(/["\\]|[^ -~]/gu, (ch) => (ch === '"' ? '""' : ch === '\\' ? '\\\\' : `\\+${hex(ch, 6)}`))}"`;
  const string = (value: string) => `E'${value.replace(/['\\]|[^ -~]/gu, (ch) => (ch === "'" || ch === '\\' ? `\\${ch}` : `\\U${hex(ch, 8)}`))}'`;
  return accounts.map(({ username, password }) => `CREATE ROLE ${identifier(username)} LOGIN PASSWORD ${string(password)};`);
}

const MARIADB_ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0', '\x1a': '\\Z' };

/** MariaDB's --init-file: one statement a line, values as escaped UTF-8 string literals; each account may read `database`. */
export function mariadbAccountStatements(accounts: readonly AwkwardAccount[], database: string): string[] {
  const string = (value: string) => `'${value.replace(/[\\']|\p{Cc}/gu, (ch) => MARIADB_ESCAPES[ch] ?? ch)}'`;
  return [
    'SET NAMES utf8mb4;',
    ...accounts.flatMap(({ username, password }) => [
      `CREATE USER ${string(username)}@'%' IDENTIFIED BY ${string(password)};`,
      `GRANT SELECT ON ${database}.* TO ${string(username)}@'%';`,
    ]),
  ];
}

/**
 * Lines of redis.conf that create the accounts, allowed ACL WHOAMI only. The config reader
 * splits a line into arguments: each is a double-quoted string of \xHH escapes, one a byte,
 * so that nothing in a value is read as syntax.
 */
export function redisAccountLines(accounts: readonly AwkwardAccount[]): string[] {
  const argument = (value: string) => `"${Buffer.from(value).toString('hex').replace(/../g, '\\x$&')}"`;
  return accounts.map(({ username, password }) => `user ${argument(username)} on ${argument(`>${password}`)} +acl|whoami`);
}
