// What a client that sends bearer tokens needs: the uaa/ layer provides it (Auth), cf/ uses it.

export interface TokenSource {
  /** A usable access token, "bearer ...". */
  token(): Promise<string>;
  /** A new access token, for when the last one was refused. */
  refresh(): Promise<string>;
}
