// The name and version have one home, package.json; the bundle inlines them.
import pkg from '../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;

export const NAME: string = pkg.name;
