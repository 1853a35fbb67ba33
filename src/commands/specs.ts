// Every command, described once: commander's definitions, each command's typed input, the
// help text, the metadata cf receives, plugin-manifest.yml and the README's command table are
// all made from these (scripts/generate.ts writes the last two; a unit test checks they are current).
import type { CommandSpec } from './command-spec.js';

export const SPECS = {
  ssh: {
    name: 'ssh',
    pluginName: 'xssh',
    description: 'SSH to an application container instance',
    usage: `{cmd} APP_NAME [--process PROCESS] [-i INDEX] [-c COMMAND]...
[-L [BIND_ADDRESS:]LOCAL_PORT:REMOTE_HOST:REMOTE_PORT]... [--skip-remote-execution]
[--disable-pseudo-tty | --force-pseudo-tty | --request-pseudo-tty] [--skip-host-validation]
[--app-env] [--ssh-client builtin|openssh [-- SSH_ARGS...]]
{cmd} APP_NAME (--all-instances | --instances LIST) -c COMMAND [--process PROCESS]
[--max-parallel N] [--group | --json] [--skip-host-validation] [--app-env]`,
    arguments: [
      { name: 'APP_NAME', key: 'appName', kind: 'required' },
      { name: 'SSH_ARGS', key: 'sshArgs', kind: 'rest' },
    ],
    options: [
      { flag: '--app-instance-index, -i', key: 'appInstanceIndex', kind: 'value', value: 'INDEX', description: 'App process instance index (Default: 0)' },
      { flag: '--command, -c', key: 'command', kind: 'values', value: 'COMMAND', description: 'Command to run' },
      { flag: '--disable-pseudo-tty, -T', key: 'disablePseudoTty', kind: 'flag', description: 'Disable pseudo-tty allocation' },
      { flag: '--force-pseudo-tty', key: 'forcePseudoTty', kind: 'flag', description: 'Force pseudo-tty allocation' },
      { flag: '-L', key: 'forwards', kind: 'values', value: 'SPEC', description: 'Local port forward specification' },
      { flag: '--process', key: 'process', kind: 'value', value: 'PROCESS', description: 'App process name (Default: web)' },
      { flag: '--request-pseudo-tty, -t', key: 'requestPseudoTty', kind: 'count', description: 'Request pseudo-tty allocation' },
      { flag: '--skip-host-validation, -k', key: 'skipHostValidation', kind: 'flag', description: 'Skip host key validation. Not recommended!' },
      { flag: '--skip-remote-execution, -N', key: 'skipRemoteExecution', kind: 'flag', description: 'Do not execute a remote command' },
      {
        flag: '--app-env',
        key: 'appEnv',
        kind: 'flag',
        description: "Start in the app's environment, as the app's own process starts (app folder, profile.d and .profile sourced)",
      },
      {
        flag: '--ssh-client',
        key: 'sshClient',
        kind: 'value',
        value: 'CLIENT',
        description: 'builtin, or openssh to hand the connection to the system ssh; SSH_ARGS after -- go to it (Default: builtin)',
      },
      { flag: '--all-instances', key: 'allInstances', kind: 'flag', description: 'With -c: run the command on every running instance of the process, each line marked [web/2]' },
      { flag: '--instances', key: 'instances', kind: 'value', value: 'LIST', description: 'With -c: run the command on these instances (0,2-4), as --all-instances does' },
      {
        flag: '--max-parallel',
        key: 'maxParallel',
        kind: 'value',
        value: 'N',
        description: 'With --all-instances or --instances: at most this many instances at once (Default: 8)',
      },
      { flag: '--group', key: 'group', kind: 'flag', description: "With --all-instances or --instances: each instance's output as one block when it ends" },
      { flag: '--json', key: 'json', kind: 'flag', description: "With --all-instances or --instances: each instance's exit status, output and duration as JSON" },
    ],
    environment: { all_proxy: 'Specify a proxy server to enable proxying for all requests' },
    seeAlso: ['allow-space-ssh', 'enable-ssh', 'space-ssh-allowed', 'ssh-code', 'ssh-enabled'],
  },
  'enable-ssh': {
    name: 'enable-ssh',
    pluginName: 'xenable-ssh',
    description: 'Enable ssh for the application',
    usage: '{cmd} APP_NAME [--for DURATION [--reason REASON]] [--restart rolling]',
    arguments: [{ name: 'APP_NAME', key: 'appName', kind: 'required' }],
    options: [
      {
        flag: '--for',
        key: 'duration',
        kind: 'value',
        value: 'DURATION',
        description: "Enable for this long only (30m, 2h, 1d; at most 30d): the expiry is kept in the app's annotations, and 'disable-ssh --expired' ends it",
      },
      { flag: '--reason', key: 'reason', kind: 'value', value: 'REASON', description: 'Why, with --for: kept beside the expiry (an incident number, say)' },
      {
        flag: '--restart',
        key: 'restart',
        kind: 'value',
        value: 'STRATEGY',
        description: 'rolling: restart the instances one by one with a rolling deployment, so that they start with SSH, and wait for it',
      },
    ],
    seeAlso: ['allow-space-ssh', 'space-ssh-allowed', 'ssh', 'ssh-enabled'],
  },
  'disable-ssh': {
    name: 'disable-ssh',
    pluginName: 'xdisable-ssh',
    description: 'Disable ssh for the application',
    usage: `{cmd} APP_NAME
{cmd} --expired [--dry-run]`,
    arguments: [{ name: 'APP_NAME', key: 'appName', kind: 'optional' }],
    options: [
      { flag: '--expired', key: 'expired', kind: 'flag', description: 'Disable ssh for every app of the targeted space whose time-boxed grant (enable-ssh --for) has expired' },
      { flag: '--dry-run', key: 'dryRun', kind: 'flag', description: 'With --expired, show what would change and change nothing' },
    ],
    seeAlso: ['disallow-space-ssh', 'space-ssh-allowed', 'ssh', 'ssh-enabled'],
  },
  'ssh-enabled': {
    name: 'ssh-enabled',
    pluginName: 'xssh-enabled',
    description: 'Reports whether SSH is enabled on an application container instance',
    usage: '{cmd} APP_NAME [--json]',
    arguments: [{ name: 'APP_NAME', key: 'appName', kind: 'required' }],
    options: [{ flag: '--json', key: 'json', kind: 'flag', description: 'Print the result as JSON, with the state of each level (app, space, global) and the time-boxed grant' }],
    seeAlso: ['enable-ssh', 'space-ssh-allowed', 'ssh'],
  },
  'allow-space-ssh': {
    name: 'allow-space-ssh',
    pluginName: 'xallow-space-ssh',
    description: 'Allow SSH access for the space',
    usage: '{cmd} SPACE_NAME',
    arguments: [{ name: 'SPACE_NAME', key: 'spaceName', kind: 'required' }],
    seeAlso: ['enable-ssh', 'space-ssh-allowed', 'ssh', 'ssh-enabled'],
  },
  'disallow-space-ssh': {
    name: 'disallow-space-ssh',
    pluginName: 'xdisallow-space-ssh',
    description: 'Disallow SSH access for the space',
    usage: '{cmd} SPACE_NAME',
    arguments: [{ name: 'SPACE_NAME', key: 'spaceName', kind: 'required' }],
    seeAlso: ['disable-ssh', 'space-ssh-allowed', 'ssh', 'ssh-enabled'],
  },
  'space-ssh-allowed': {
    name: 'space-ssh-allowed',
    pluginName: 'xspace-ssh-allowed',
    description: 'Reports whether SSH is allowed in a space',
    usage: '{cmd} SPACE_NAME [--json]',
    arguments: [{ name: 'SPACE_NAME', key: 'spaceName', kind: 'required' }],
    options: [{ flag: '--json', key: 'json', kind: 'flag', description: 'Print the result as JSON' }],
    seeAlso: ['allow-space-ssh', 'disallow-space-ssh'],
  },
  'ssh-audit': {
    name: 'ssh-audit',
    pluginName: 'ssh-audit',
    description: 'Report SSH at every level for a space, an org or all orgs: who may change it, who used it; enforce a policy',
    usage: `{cmd} [-o ORG | --all] [--since DURATION] [--json | --csv] [--policy disabled]
{cmd} [-o ORG | --all] --enforce [space] [--dry-run]
{cmd} [-o ORG | --all] --events [--since DURATION] [--json | --csv]
{cmd} [-o ORG | --all] [--save FILE] [--diff FILE]`,
    arguments: [{ name: 'LEVEL', key: 'enforceLevel', kind: 'optional' }],
    options: [
      { flag: '-o', key: 'org', kind: 'value', value: 'ORG', description: 'Report on every space of this org (Default: the targeted space)' },
      { flag: '--all', key: 'all', kind: 'flag', description: 'Report on every org you can see' },
      { flag: '--since', key: 'since', kind: 'value', value: 'DURATION', description: 'The window for SSH logins: 30m, 12h, 7d (Default: 7d)' },
      { flag: '--json', key: 'json', kind: 'flag', description: 'Print the report as JSON' },
      { flag: '--csv', key: 'csv', kind: 'flag', description: 'Print the report as CSV' },
      {
        flag: '--policy',
        key: 'policy',
        kind: 'value',
        value: 'POLICY',
        description: 'disabled: exit 3 when SSH is on (or cannot be read) anywhere without a valid time-boxed grant',
      },
      {
        flag: '--enforce',
        key: 'enforce',
        kind: 'flag',
        description: 'Disable SSH where it is on: per app (and expired time-boxed grants), or per space with --enforce space; exit 4 if any change is refused',
      },
      { flag: '--dry-run', key: 'dryRun', kind: 'flag', description: 'With --enforce, print what would change and change nothing' },
      { flag: '--save', key: 'save', kind: 'value', value: 'FILE', description: 'Write a snapshot of the report (JSON) to FILE' },
      { flag: '--diff', key: 'diff', kind: 'value', value: 'FILE', description: 'Show what changed since the snapshot in FILE' },
      { flag: '--events', key: 'events', kind: 'flag', description: 'List the SSH login audit events (authorized and not) in the window' },
    ],
    seeAlso: ['disable-ssh', 'disallow-space-ssh', 'ssh-enabled', 'space-ssh-allowed'],
  },
  'ssh-code': {
    name: 'ssh-code',
    pluginName: 'xssh-code',
    description: 'Get a one time password for ssh clients',
    usage: `{cmd}
{cmd} --openssh APP_NAME [-i INDEX] [--process PROCESS]`,
    arguments: [{ name: 'APP_NAME', key: 'appName', kind: 'optional' }],
    options: [
      { flag: '--openssh', key: 'openssh', kind: 'flag', description: 'Print ready ssh, scp and sftp command lines for an app instance, with a fresh code' },
      { flag: '--app-instance-index, -i', key: 'appInstanceIndex', kind: 'value', value: 'INDEX', description: 'App process instance index, with --openssh (Default: 0)' },
      { flag: '--process', key: 'process', kind: 'value', value: 'PROCESS', description: 'App process name, with --openssh (Default: web)' },
    ],
    seeAlso: ['curl', 'ssh'],
  },
  copy: {
    name: 'copy',
    pluginName: 'copy',
    description: 'Copy files and folders between this computer and an app instance, over SFTP',
    usage: `{cmd} APP_NAME:PATH LOCAL_PATH [-r] [-i INDEX] [--process PROCESS] [-f | --resume] [-p] [--verify] [--quiet]
{cmd} LOCAL_PATH APP_NAME:PATH [-r] [-i INDEX] [--process PROCESS] [-f | --resume] [-p] [--verify] [--quiet]
A local path with a colon is written ./a:b; C:\\ or C:/ is a Windows drive, never an app.`,
    arguments: [
      { name: 'SOURCE', key: 'source', kind: 'required' },
      { name: 'DESTINATION', key: 'destination', kind: 'required' },
    ],
    options: [
      { flag: '--recursive, -r', key: 'recursive', kind: 'flag', description: 'Copy folders and everything in them' },
      { flag: '--app-instance-index, -i', key: 'appInstanceIndex', kind: 'value', value: 'INDEX', description: 'App process instance index (Default: 0)' },
      { flag: '--process', key: 'process', kind: 'value', value: 'PROCESS', description: 'App process name (Default: web)' },
      { flag: '--force, -f', key: 'force', kind: 'flag', description: 'Overwrite files that exist' },
      { flag: '--preserve, -p', key: 'preserve', kind: 'flag', description: 'Keep modes and modification times' },
      {
        flag: '--resume',
        key: 'resume',
        kind: 'flag',
        description: 'Continue partial files left by an interrupted copy, once a SHA-256 over their part (computed on the instance) matches',
      },
      { flag: '--verify', key: 'verify', kind: 'flag', description: 'Compare the SHA-256 of each file on both sides at the end (needs sha256sum on the instance)' },
      { flag: '--follow-symlinks', key: 'followSymlinks', kind: 'flag', description: 'Copy what symbolic links inside folders point to (Default: skip them)' },
      { flag: '--quiet, -q', key: 'quiet', kind: 'flag', description: 'No progress bar and no summary' },
      { flag: '--skip-host-validation, -k', key: 'skipHostValidation', kind: 'flag', description: 'Skip host key validation. Not recommended!' },
    ],
    seeAlso: ['ssh', 'ssh-code'],
  },
  tunnel: {
    name: 'tunnel',
    pluginName: 'tunnel',
    description: 'Hold local port forwards to an app instance open, reconnecting with a fresh code whenever the connection drops',
    usage: `{cmd} APP_NAME -L [BIND_ADDRESS:]LOCAL_PORT:REMOTE_HOST:REMOTE_PORT... [--process PROCESS] [-i INDEX] [--skip-host-validation]
{cmd} APP_NAME --service SERVICE_INSTANCE [--local-port PORT] [--show-password] [-L SPEC]...`,
    arguments: [{ name: 'APP_NAME', key: 'appName', kind: 'required' }],
    options: [
      { flag: '--app-instance-index, -i', key: 'appInstanceIndex', kind: 'value', value: 'INDEX', description: 'App process instance index (Default: 0)' },
      { flag: '-L', key: 'forwards', kind: 'values', value: 'SPEC', description: 'Local port forward specification (at least one, or --service)' },
      {
        flag: '--service',
        key: 'service',
        kind: 'value',
        value: 'SERVICE_INSTANCE',
        description: 'A forward to this bound service, with the TLS bridge where it asks for TLS, as connect-to-service --no-client; its details are printed',
      },
      {
        flag: '--local-port',
        key: 'localPort',
        kind: 'value',
        value: 'PORT',
        description: 'With --service, the local port its forward listens on, the same from run to run (Default: a free port)',
      },
      { flag: '--show-password', key: 'showPassword', kind: 'flag', description: "With --service, print the service's password too" },
      { flag: '--process', key: 'process', kind: 'value', value: 'PROCESS', description: 'App process name (Default: web)' },
      { flag: '--skip-host-validation, -k', key: 'skipHostValidation', kind: 'flag', description: 'Skip host key validation. Not recommended!' },
    ],
    environment: { CF_SSH_TOOLS_KEEPALIVE_SECONDS: 'Seconds between keepalives; three unanswered ones count as a lost connection (Default: 30)' },
    seeAlso: ['connect-to-service', 'ssh'],
  },
  'web-ssh': {
    name: 'web-ssh',
    pluginName: 'web-ssh',
    description: "A terminal in the browser: serve a page on 127.0.0.1 with the app's instances and a shell on the one chosen, one SSH session per tab",
    usage: '{cmd} APP_NAME [--port PORT] [--no-open] [--idle DURATION] [--lifetime DURATION] [--app-env] [--skip-host-validation]',
    arguments: [{ name: 'APP_NAME', key: 'appName', kind: 'required' }],
    options: [
      { flag: '--port', key: 'port', kind: 'value', value: 'PORT', description: 'Port on 127.0.0.1 to serve the page on (Default: a free port)' },
      { flag: '--no-open', key: 'noOpen', kind: 'flag', description: "Print the page's address (with its token) instead of opening the browser" },
      {
        flag: '--idle',
        key: 'idle',
        kind: 'value',
        value: 'DURATION',
        description: 'Stop when no tab has been open for this long: 90s, 5m, 1h (Default: 5m; a reload does not stop it)',
      },
      {
        flag: '--lifetime',
        key: 'lifetime',
        kind: 'value',
        value: 'DURATION',
        description: "Stop when the page's token is this old, tabs open or not: 30m, 12h, 1d; at most 7d (Default: 12h)",
      },
      {
        flag: '--app-env',
        key: 'appEnv',
        kind: 'flag',
        description: "Start the shells in the app's environment, as the app's own process starts (app folder, profile.d and .profile sourced)",
      },
      { flag: '--skip-host-validation, -k', key: 'skipHostValidation', kind: 'flag', description: 'Skip host key validation. Not recommended!' },
    ],
    environment: {
      BROWSER: 'Programs to open the page with, separated as in PATH, %s standing for the file (Default: xdg-open, open or start)',
    },
    seeAlso: ['ssh'],
  },
  'connect-to-service': {
    name: 'connect-to-service',
    pluginName: 'connect-to-service',
    description:
      'Open a tunnel through an app instance to a bound service and start its native client (psql, mysql, redis-cli, mongosh); several services go to a program or --no-client',
    usage: `{cmd} APP_NAME SERVICE_INSTANCE [SERVICE_INSTANCE...] [-i INDEX] [--no-client [--show-password]] [--local-port PORT] [--bind ADDRESS [--allow-remote]]
[--type TYPE] [--credentials binding|key] [--insecure-tls] [-- COMMAND ARGS... | -- CLIENT_OPTIONS...]`,
    arguments: [
      { name: 'APP_NAME', key: 'appName', kind: 'required' },
      { name: 'SERVICE_INSTANCE', key: 'serviceInstance', kind: 'required' },
      // The words before -- name more services; those after it are the command.
      { name: 'COMMAND', key: 'command', kind: 'rest' },
    ],
    options: [
      { flag: '--app-instance-index, -i', key: 'appInstanceIndex', kind: 'value', value: 'INDEX', description: 'App process instance index (Default: 0)' },
      { flag: '--no-client', key: 'noClient', kind: 'flag', description: 'Only open the tunnel and print the connection details (the password masked)' },
      { flag: '--show-password', key: 'showPassword', kind: 'flag', description: 'With --no-client, print the password too' },
      { flag: '--local-port', key: 'localPort', kind: 'value', value: 'PORT', description: 'Local port of the tunnel, with one service (Default: a free port)' },
      {
        flag: '--bind',
        key: 'bind',
        kind: 'value',
        value: 'ADDRESS',
        description: 'Local address of the tunnel (Default: 127.0.0.1); other than loopback only with --allow-remote',
      },
      { flag: '--allow-remote', key: 'allowRemote', kind: 'flag', description: 'Let --bind take an address reachable from the network' },
      { flag: '--type', key: 'type', kind: 'value', value: 'TYPE', description: 'Service type, with one service, when it cannot be detected: postgres, mysql, redis or mongodb' },
      {
        flag: '--credentials',
        key: 'credentials',
        kind: 'value',
        value: 'SOURCE',
        description: "Where credentials come from: binding (the app's binding) or key (a service key for this run only) (Default: binding)",
      },
      { flag: '--insecure-tls', key: 'insecureTls', kind: 'flag', description: "Do not check the service's TLS certificate (says so on every run)" },
    ],
    seeAlso: ['ssh'],
  },
  login: {
    name: 'login',
    description: 'Log user in',
    usage: '{cmd} [-a API_URL] [-u USERNAME] [-p PASSWORD] [-o ORG] [-s SPACE] [--sso | --sso-passcode PASSCODE] [--client-credentials] [--origin ORIGIN] [--skip-ssl-validation]',
    options: [
      { flag: '-a', key: 'api', kind: 'value', value: 'API_URL', description: 'API endpoint (e.g. https://api.example.com)' },
      { flag: '-o', key: 'org', kind: 'value', value: 'ORG', description: 'Org' },
      { flag: '-p', key: 'password', kind: 'value', value: 'PASSWORD', description: 'Password (prompted for when not given; with --client-credentials, the client secret)' },
      { flag: '-s', key: 'space', kind: 'value', value: 'SPACE', description: 'Space' },
      { flag: '--skip-ssl-validation', key: 'skipSslValidation', kind: 'flag', description: 'Skip verification of the API endpoint. Not recommended!' },
      { flag: '--sso', key: 'sso', kind: 'flag', description: 'Prompt for a one-time passcode to login' },
      { flag: '--sso-passcode', key: 'ssoPasscode', kind: 'value', value: 'PASSCODE', description: 'One-time passcode' },
      { flag: '--client-credentials', key: 'clientCredentials', kind: 'flag', description: 'Use the client-credentials grant; -u is the client ID and -p the client secret' },
      { flag: '--origin', key: 'origin', kind: 'value', value: 'ORIGIN', description: 'Indicates the identity provider to be used for login' },
      { flag: '-u', key: 'username', kind: 'value', value: 'USERNAME', description: 'Username' },
    ],
    seeAlso: ['logout', 'target'],
  },
  logout: {
    name: 'logout',
    description: 'Log user out',
    usage: '{cmd}',
    seeAlso: ['login'],
  },
  target: {
    name: 'target',
    description: 'Set or view the targeted org or space',
    usage: '{cmd} [-o ORG] [-s SPACE] [--json]',
    options: [
      { flag: '-o', key: 'org', kind: 'value', value: 'ORG', description: 'Organization' },
      { flag: '-s', key: 'space', kind: 'value', value: 'SPACE', description: 'Space' },
      { flag: '--json', key: 'json', kind: 'flag', description: 'Print the target as JSON' },
    ],
    seeAlso: ['login'],
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof SPECS;

export const COMMAND_NAMES = Object.keys(SPECS) as CommandName[];

export const COMMAND_SPECS: readonly CommandSpec[] = Object.values(SPECS);
