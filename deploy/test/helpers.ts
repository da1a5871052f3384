// Builds the app the way `cdk synth` does (context from cdk.json), with overrides per test.

import { App } from 'aws-cdk-lib';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TapwaveApp, buildApp } from '../lib/app';

const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8'));

/** Everything a test process writes (cloud assemblies, fixtures) goes here and is removed at exit. */
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwave-deploy-test-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(scratch, prefix));
}

export const EXAMPLE_CERT = 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000';

/** A folder with a Mini App file, so that the S3 deployment is part of the template. */
export function staticFixture(): string {
  const dir = tempDir('static-');
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>tapwave</title>\n');
  return dir;
}

export function buildTestApp(overrides: Record<string, unknown> = {}): TapwaveApp {
  const app = new App({
    outdir: tempDir('cdk-'),
    context: { ...cdkJson.context, imageTag: 'test', ...overrides },
  });
  return buildApp(app);
}

export const context = cdkJson.context as Record<string, unknown>;
