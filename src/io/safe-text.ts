// Text a server or a credential chose, made safe to show on a terminal. A control character
// starts an escape sequence that drives the terminal: colours, a cleared screen, the window's
// title, a hyperlink, the clipboard (OSC 52), a line rewritten with \r. Bidirectional overrides
// reorder what is shown. Each such character is shown as a visible escape instead (ESC as \x1b),
// so nothing is hidden and nothing is obeyed; newlines and tabs stay as they are.

// C0 but \t and \n, DEL, C1, and the bidirectional marks, embeddings, overrides and isolates.
// oxlint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function visible(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export function safeText(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(UNSAFE, visible);
}
