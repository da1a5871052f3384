// The S3 copy of the Mini App uses the same URLs as the binary (webapp-api/src/routes/assets.rs).

import { Template } from 'aws-cdk-lib/assertions';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readMiniApp } from '../lib/mini-app';
import { resources } from './checks';
import { buildTestApp, tempDir } from './helpers';

function fixture(files: Record<string, string>): string {
  const dir = tempDir('mini-app-');
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), body);
  return dir;
}

describe('Mini App layout', () => {
  const dir = fixture({
    'index.html': '<script src="__ASSETS__/a.js"></script>\n',
    'b.css': 'body{}\n',
    'a.js': 'export const x = 1;\n',
    '.hidden': 'not served',
  });

  it('versions assets like the binary: sha256 over (name, bytes) in name order, 6 bytes hex', () => {
    const app = readMiniApp(dir)!;
    // Computed independently: sha256("a.js" + a.js + "b.css" + b.css + "index.html" + index.html)[..6]
    assert.equal(app.version, '7cf95632cebf');
    assert.deepEqual(app.files, ['a.js', 'b.css', 'index.html']);
    assert.equal(app.indexHtml, '<script src="/assets/7cf95632cebf/a.js"></script>\n');
  });

  it('has nothing to deploy for a missing or empty folder', () => {
    assert.equal(readMiniApp('/nonexistent-tapwave'), undefined);
    assert.equal(readMiniApp(fixture({})), undefined);
  });

  it('uploads the assets under their version, then the page, invalidating the page', () => {
    const t = Template.fromStack(buildTestApp({ staticDir: dir }).primary!);
    const deployments = resources(t, 'Custom::CDKBucketDeployment');
    assert.equal(deployments.length, 2);
    const [[assetsId, assets]] = deployments.filter(([, d]) => d.Properties.DestinationBucketKeyPrefix);
    assert.equal(assets.Properties.DestinationBucketKeyPrefix, 'assets/7cf95632cebf/');
    assert.deepEqual(assets.Properties.SystemMetadata, { 'cache-control': 'public, max-age=31536000, immutable' });
    const [[, page]] = deployments.filter(([, d]) => !d.Properties.DestinationBucketKeyPrefix);
    assert.ok(page.Properties.DistributionPaths.includes('/index.html'));
    assert.ok(page.DependsOn.some((d: string) => d.startsWith(assetsId.slice(0, 20))), 'page after assets');
  });
});
