// The first script of the page, and the only one served without the token: it moves the token
// from the address (#token=…, never sent to any server) into sessionStorage, which belongs to
// this origin and port and survives a reload, takes it out of the address bar, then loads the
// page's styles and scripts with it.
const TOKEN_KEY = 'cf-ssh-tools-token';
const FILES = ['xterm.css', 'page.css', 'xterm.js', 'addon-fit.js', 'addon-web-links.js', 'page.js'];

async function boot() {
  const status = document.getElementById('status');
  const fromAddress = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (fromAddress) {
    sessionStorage.setItem(TOKEN_KEY, fromAddress[1]);
    history.replaceState(null, '', location.pathname);
  }
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    status.textContent = 'This page needs the address web-ssh printed or opened, with its token. Start web-ssh again to get one.';
    return;
  }
  const load = async (name) => {
    const response = await fetch(`/assets/${name}`, { headers: { Authorization: `Bearer ${token}` } });
    if (response.status === 403) throw new Error('This address’s token is not (or no longer) valid: start web-ssh again and open the address it gives.');
    if (!response.ok) throw new Error(`Loading ${name} failed: ${response.status} ${response.statusText}`);
    return URL.createObjectURL(await response.blob());
  };
  try {
    const urls = await Promise.all(FILES.map(load));
    // One after another: each script uses what the ones before defined, and the styles are in place before the terminal measures itself.
    for (const [i, url] of urls.entries()) {
      const name = FILES[i];
      const element = document.createElement(name.endsWith('.css') ? 'link' : 'script');
      if (element instanceof HTMLLinkElement) {
        element.rel = 'stylesheet';
        element.href = url;
      } else {
        element.src = url;
      }
      await new Promise((resolve, reject) => {
        element.onload = resolve;
        element.onerror = () => reject(new Error(`${name} did not load`));
        document.head.append(element);
      });
    }
  } catch (err) {
    status.textContent = err instanceof Error && err.message !== 'Failed to fetch' ? err.message : 'web-ssh is not running any more: start it again.';
    status.className = 'error';
  }
}

void boot();
