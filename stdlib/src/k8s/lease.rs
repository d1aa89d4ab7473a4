//! Leader election on a `coordination.k8s.io/v1` Lease, as client-go's `leaderelection` does it,
//! so that of several replicas of a controller only one reconciles. A candidate takes the lease
//! when it does not exist, is free, or has not been renewed for its duration — judged by when
//! *this* process last saw the record change, never by comparing clocks across machines. The
//! leader renews every retry period and gives up when it cannot renew within the renew
//! deadline. Every write carries the lease's resourceVersion, so two candidates racing for it
//! cannot both win: one gets a Conflict. At shutdown the leader releases the lease so a standby
//! takes over at once, not after the lease expires.

use std::time::{Duration, Instant, SystemTime};

use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{json, Value as Json};

/// How long a lease is valid without renewal (client-go: 15 s).
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(15);

/// One candidate for one lease.
pub struct Election {
    api: Api<DynamicObject>,
    name: String,
    pub identity: String,
    lease_duration: Duration,
    /// The leader gives up if it cannot renew for this long (2/3 of the duration, as client-go's
    /// 10 s of 15 s).
    renew_deadline: Duration,
    /// How often candidates try and the leader renews (2 s of 15 s in client-go).
    retry_period: Duration,
}

/// The holder and renew time last seen, and when they were first seen so.
type Observed = Option<(String, String, Instant)>;

fn now() -> String {
    humantime::format_rfc3339_micros(SystemTime::now()).to_string()
}

/// This process's identity: the pod's name (downward API) or the host name, with the pid.
pub fn identity() -> String {
    let host = std::env::var("POD_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .unwrap_or_else(|| "cn".into());
    format!("{}_{}", host.trim(), std::process::id())
}

impl Election {
    pub fn new(api: Api<DynamicObject>, name: &str, lease_duration: Duration) -> Election {
        Election {
            api,
            name: name.to_string(),
            identity: identity(),
            lease_duration,
            renew_deadline: lease_duration.mul_f64(2.0 / 3.0),
            retry_period: lease_duration.div_f64(7.5),
        }
    }

    /// Waits until this process holds the lease.
    pub async fn acquire(&self) {
        let mut observed = None;
        while !self.try_hold(&mut observed).await {
            tokio::time::sleep(self.retry_period).await;
        }
    }

    /// Renews the lease until it is lost (not renewed within the renew deadline); then returns.
    pub async fn keep(&self) {
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(self.retry_period).await;
            let mut observed = None;
            if self.try_hold(&mut observed).await {
                renewed = Instant::now();
            } else if renewed.elapsed() >= self.renew_deadline {
                return;
            }
        }
    }

    /// Gives the lease up if this process holds it.
    pub async fn release(&self) {
        let Ok(mut lease) = self.api.get(&self.name).await else {
            return;
        };
        if lease.data["spec"]["holderIdentity"] != json!(self.identity) {
            return;
        }
        let spec = &mut lease.data["spec"];
        spec["holderIdentity"] = Json::Null;
        spec["leaseDurationSeconds"] = json!(1);
        spec["renewTime"] = json!(now());
        let _ = self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await;
    }

    /// One attempt to take or renew the lease; whether this process holds it afterwards.
    async fn try_hold(&self, observed: &mut Observed) -> bool {
        let lease = match self.api.get(&self.name).await {
            Ok(lease) => lease,
            Err(kube::Error::Api(status)) if status.code == 404 => return self.create().await,
            Err(_) => return false,
        };
        let spec = &lease.data["spec"];
        let holder = spec["holderIdentity"].as_str().unwrap_or("").to_string();
        let renewed = spec["renewTime"].as_str().unwrap_or("").to_string();
        let duration = spec["leaseDurationSeconds"]
            .as_u64()
            .map_or(self.lease_duration, Duration::from_secs);
        let seen_at = match observed {
            Some((h, r, at)) if *h == holder && *r == renewed => *at,
            _ => {
                let at = Instant::now();
                *observed = Some((holder.clone(), renewed, at));
                at
            }
        };
        let ours = holder == self.identity;
        if !ours && !holder.is_empty() && seen_at.elapsed() < duration {
            return false;
        }
        let mut updated = lease.clone();
        let transitions = spec["leaseTransitions"].as_u64().unwrap_or(0);
        updated.data["spec"] = json!({
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.lease_duration.as_secs().max(1),
            "acquireTime": if ours { spec["acquireTime"].clone() } else { json!(now()) },
            "renewTime": now(),
            "leaseTransitions": if ours { transitions } else { transitions + 1 },
        });
        self.api
            .replace(&self.name, &PostParams::default(), &updated)
            .await
            .is_ok()
    }

    async fn create(&self) -> bool {
        let lease: DynamicObject = match serde_json::from_value(json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.name},
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": self.lease_duration.as_secs().max(1),
                "acquireTime": now(),
                "renewTime": now(),
                "leaseTransitions": 0,
            },
        })) {
            Ok(lease) => lease,
            Err(_) => return false,
        };
        self.api
            .create(&PostParams::default(), &lease)
            .await
            .is_ok()
    }
}
