#!/usr/bin/env node
// The tapwave CDK app: an image registry stack, then one stack per region.
//
//   TapwaveImages               ECR repository (primary region), replicated to the other regions
//   Tapwave-<primary region>    everything of the primary region, plus CloudFront and the Mini App bucket
//   Tapwave-<secondary region>  one more region joining the primary (docs/MULTI-REGION.md)
//
// Without `-c imageTag=<git sha>` only TapwaveImages is synthesised: the services need an image.

import { App, Tags } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';

const app = new App();
buildApp(app);
Tags.of(app).add('project', 'tapwave');
app.synth();
