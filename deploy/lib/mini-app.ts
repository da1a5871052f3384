// The Mini App files as the binary serves them, reproduced for S3 so that CloudFront serves the same
// URLs and bytes as `tapwave api` does (webapp-api/build.rs and webapp-api/src/routes/assets.rs):
//
//  - the files are the regular files directly in static/, names not starting with '.';
//  - version = hex of the first 6 bytes of SHA-256 over (name, contents) of every file, names in
//    byte order;
//  - `/` is index.html with every `__ASSETS__` replaced by `/assets/<version>`;
//  - every other file is `/assets/<version>/<name>`.
//
// If that scheme changes in the Rust code, change it here too (test/mini-app.test.ts pins it).

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export const ASSETS_PLACEHOLDER = '__ASSETS__';

export interface MiniApp {
  dir: string;
  version: string;
  /** Every file name, sorted as the binary sorts them. */
  files: string[];
  /** index.html with the asset paths filled in (undefined when there is none). */
  indexHtml?: string;
}

export function readMiniApp(dir: string): MiniApp | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const files = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (files.length === 0) return undefined;

  const hash = crypto.createHash('sha256');
  for (const name of files) {
    hash.update(name);
    hash.update(fs.readFileSync(path.join(dir, name)));
  }
  const version = hash.digest().subarray(0, 6).toString('hex');
  const index = files.includes('index.html')
    ? fs.readFileSync(path.join(dir, 'index.html'), 'utf8').split(ASSETS_PLACEHOLDER).join(`/assets/${version}`)
    : undefined;
  return { dir, version, files, indexHtml: index };
}
