// The edge, created once, in the primary region's stack: a private S3 bucket with the Mini App files,
// and one CloudFront distribution in front of both the bucket and the regional ALBs.
//
//   /                  S3 (index.html; revalidated by browsers, a minute at the edge)
//   /assets/*          S3 (/assets/<content hash>/<file>; cached for a year)
//   /api/*             ALB origin (no caching; Authorization and every other viewer header forwarded)
//   /telegram/webhook  ALB origin (no caching; Telegram's secret-token header forwarded)
//
// The ALB origin is `originDomainName`, a latency-routed Route 53 name with one record per region,
// so CloudFront's edge reaches the nearest healthy region (docs/MULTI-REGION.md).

import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import * as path from 'path';
import { skipChecks } from './checkov';
import { ORIGIN_VERIFY_HEADER, ROUTES, TapwaveConfig } from './config';
import { readMiniApp } from './mini-app';

export interface EdgeProps {
  config: TapwaveConfig;
  zone: route53.IHostedZone;
  logBucket: s3.IBucket;
  originVerifyValue: string;
  logRetention: logs.RetentionDays;
  logKey: kms.IKey;
  /** Absolute path of the folder with the Mini App files. */
  staticDir: string;
}

export class Edge extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** https://<domain> (custom domain) or https://<id>.cloudfront.net */
  readonly url: string;

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    const cfg = props.config;

    this.bucket = new s3.Bucket(this, 'Static', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.logBucket,
      serverAccessLogsPrefix: 's3/static/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const s3Origin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    const albOrigin = new origins.HttpOrigin(cfg.originDomainName, {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      customHeaders: { [ORIGIN_VERIFY_HEADER]: props.originVerifyValue },
      readTimeout: Duration.seconds(30),
      keepaliveTimeout: Duration.seconds(60),
    });

    const securityHeaders = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'tapwave: HSTS, nosniff, referrer policy; framing only by Telegram clients',
      securityHeadersBehavior: {
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
        xssProtection: { protection: true, modeBlock: true, override: true },
        // No X-Frame-Options: Telegram Web and Desktop show Mini Apps in an iframe. frame-ancestors
        // allows exactly those embedders.
        contentSecurityPolicy: {
          contentSecurityPolicy:
            "frame-ancestors 'self' https://web.telegram.org https://*.web.telegram.org https://telegram.org",
          override: true,
        },
      },
    });

    // index.html and other unversioned files: cached briefly at the edge, so a release shows up
    // within a minute even without the invalidation the deployment below sends.
    const pageCache = new cloudfront.CachePolicy(this, 'PageCache', {
      comment: 'tapwave pages: short TTL, compressed',
      defaultTtl: Duration.seconds(60),
      minTtl: Duration.seconds(0),
      maxTtl: Duration.minutes(5),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });

    const apiBehavior: cloudfront.BehaviorOptions = {
      origin: albOrigin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      // CachingDisabled + AllViewerExceptHostHeader: every viewer header, Authorization included,
      // reaches the ALB; Host becomes the origin name that the ALB's certificate covers.
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: securityHeaders,
      compress: true,
    };

    const customDomain = cfg.cloudFrontCertificateArn !== undefined;
    this.distribution = new cloudfront.Distribution(this, 'Cdn', {
      comment: `${cfg.appName}: Mini App and API`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: s3Origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: pageCache,
        responseHeadersPolicy: securityHeaders,
        compress: true,
      },
      additionalBehaviors: {
        '/assets/*': {
          origin: s3Origin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
          responseHeadersPolicy: securityHeaders,
          compress: true,
        },
        [ROUTES.api]: apiBehavior,
        [ROUTES.webhook]: apiBehavior,
      },
      domainNames: customDomain ? [cfg.domainName] : undefined,
      certificate: customDomain
        ? acm.Certificate.fromCertificateArn(this, 'Certificate', cfg.cloudFrontCertificateArn!)
        : undefined,
      minimumProtocolVersion: customDomain ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass:
        cfg.priceClass === '100'
          ? cloudfront.PriceClass.PRICE_CLASS_100
          : cfg.priceClass === '200'
            ? cloudfront.PriceClass.PRICE_CLASS_200
            : cloudfront.PriceClass.PRICE_CLASS_ALL,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'cloudfront/',
      webAclId: cfg.webAclArn,
    });
    if (!cfg.webAclArn) skipChecks(this.distribution, 'CKV_AWS_68');
    if (!customDomain) skipChecks(this.distribution, 'CKV_AWS_174_DEFAULT_CERT');

    this.url = `https://${customDomain ? cfg.domainName : this.distribution.distributionDomainName}`;

    if (customDomain) {
      const target = route53.RecordTarget.fromAlias(new targets.CloudFrontTarget(this.distribution));
      new route53.ARecord(this, 'Alias', { zone: props.zone, recordName: cfg.domainName, target });
      new route53.AaaaRecord(this, 'AliasV6', { zone: props.zone, recordName: cfg.domainName, target });
    }

    // The Mini App, laid out as the binary serves it (lib/mini-app.ts): index.html at the root with
    // a short edge cache, every other file under assets/<version>/ cached for a year. Old versions
    // stay (prune: false), so a phone holding an older index.html still loads its assets mid-release.
    const miniApp = readMiniApp(props.staticDir);
    if (miniApp) {
      const logGroup = new logs.LogGroup(this, 'DeployLogs', {
        retention: props.logRetention,
        encryptionKey: props.logKey,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const assets = new s3deploy.BucketDeployment(this, 'DeployAssets', {
        sources: [s3deploy.Source.asset(miniApp.dir, { exclude: ['index.html', '.*'] })],
        destinationBucket: this.bucket,
        destinationKeyPrefix: `assets/${miniApp.version}/`,
        prune: false,
        cacheControl: [s3deploy.CacheControl.fromString('public, max-age=31536000, immutable')],
        memoryLimit: 512,
        logGroup,
      });
      if (miniApp.indexHtml !== undefined) {
        const page = new s3deploy.BucketDeployment(this, 'DeployPage', {
          sources: [s3deploy.Source.data('index.html', miniApp.indexHtml)],
          destinationBucket: this.bucket,
          prune: false,
          // Browsers always revalidate (as the binary's no-cache); the edge keeps it a minute.
          cacheControl: [s3deploy.CacheControl.fromString('public, max-age=0, s-maxage=60, must-revalidate')],
          distribution: this.distribution,
          distributionPaths: ['/', '/index.html'],
          memoryLimit: 512,
          logGroup,
        });
        // The page points at the new version: its assets must be there first.
        page.node.addDependency(assets);
      }
    } else {
      Annotations.of(this).addWarning(
        `no Mini App files in ${path.relative(process.cwd(), props.staticDir)}: the bucket stays empty`,
      );
    }
  }
}
