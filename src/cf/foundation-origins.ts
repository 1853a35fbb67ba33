// Which servers belong to a foundation: the API URL the user gave and the servers its root
// names for itself, its v3 API, login and UAA. A foundation reached through an alias answers
// with links on its own domain, and those are followed; the bearer token goes nowhere else.
import { OutsideFoundationError } from '../errors.js';

type Links = Readonly<Record<string, { href?: string } | null | undefined>>;

/** The root links whose servers are part of the foundation. */
const FOUNDATION_LINKS = ['self', 'cloud_controller_v3', 'login', 'uaa'] as const;

export class FoundationOrigins {
  private readonly origins: URL[] = [];

  constructor(api: string, links: Links = {}) {
    for (const href of [api, ...FOUNDATION_LINKS.map((name) => links[name]?.href)]) {
      const url = href && URL.canParse(href) ? new URL(href) : undefined;
      if (url && /^https?:$/.test(url.protocol) && !this.includes(url)) this.origins.push(url);
    }
  }

  includes(url: URL): boolean {
    return this.origins.some((origin) => origin.origin === url.origin);
  }

  /** Throws OutsideFoundationError for a URL on any other server. */
  check(url: URL): void {
    if (!this.includes(url)) throw new OutsideFoundationError(url.href, this.origins.map(shown));
  }
}

/** A server as the user would name it: its host, with the scheme when it is not https. */
function shown(url: URL): string {
  return url.protocol === 'https:' ? url.host : url.origin;
}
