//! Password hashing and checking on a fixed set of worker threads.
//!
//! One argon2id verification with the default parameters touches 19 MiB. Run on the blocking
//! pool, every concurrent login took a thread and a fresh 19 MiB block that the allocator kept
//! afterwards: 400 failed logins, 32 at a time, left the process at 5.7 GB. Here at most
//! `workers` hashes run at once (one per core by default), each worker owns one memory block
//! that it reuses for every job (allocated on its first job, never freed), and jobs wait in a
//! bounded queue; when the queue is full the caller is told to come back ([`HashError::Busy`],
//! a 503 at the HTTP edge). So the memory that passwords can cost is `workers × 19 MiB`,
//! whatever the network sends.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;
use tokio::sync::oneshot;

/// Why a password could not be hashed or checked now.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every worker is busy and the queue is full: try again in a moment.
    #[error("password checks are busy; try again in a moment")]
    Busy,
    /// The workers are gone (the process is shutting down).
    #[error("the password workers have stopped")]
    Stopped,
    /// argon2 refused the input or parameters.
    #[error("argon2: {0}")]
    Argon2(String),
}

/// The largest memory a stored hash may ask for (in KiB): hashes are ours, but a database
/// restored from elsewhere must not make a login allocate without bound.
const MAX_M_COST_KIB: u32 = 256 * 1024;

enum Job {
    Verify { password: String, phc: String, reply: oneshot::Sender<bool> },
    Hash { password: String, reply: oneshot::Sender<Result<String, HashError>> },
}

/// Handle to the workers (cheap to clone). The threads end when every handle is dropped.
#[derive(Clone)]
pub struct PasswordWorkers {
    jobs: SyncSender<Job>,
    workers: usize,
}

impl PasswordWorkers {
    /// Starts `workers` threads (0: one per core) with room for `queue` waiting jobs.
    pub fn start(workers: usize, queue: usize) -> PasswordWorkers {
        let workers = if workers == 0 {
            std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
        } else {
            workers
        };
        let (jobs, receiver) = sync_channel(queue.max(1));
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..workers {
            let receiver = Arc::clone(&receiver);
            let spawned = std::thread::Builder::new()
                .name(format!("password-{i}"))
                .spawn(move || work(&receiver));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password worker");
            }
        }
        PasswordWorkers { jobs, workers }
    }

    /// How many hashes may run at once.
    pub fn workers(&self) -> usize {
        self.workers
    }

    fn submit(&self, job: Job) -> Result<(), HashError> {
        match self.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(HashError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(HashError::Stopped),
        }
    }

    /// Whether `password` matches the PHC string `phc` (false for a malformed one).
    pub async fn verify(&self, password: String, phc: String) -> Result<bool, HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify { password, phc, reply })?;
        answer.await.map_err(|_| HashError::Stopped)
    }

    /// Hashes `password` with argon2id, the default parameters and a random salt.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        answer.await.map_err(|_| HashError::Stopped)?
    }
}

fn work(receiver: &Mutex<Receiver<Job>>) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        // The lock is held only to take one job.
        let job = match receiver.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        match job {
            Job::Verify { password, phc, reply } => {
                let _ = reply.send(verify_with(&mut memory, &password, &phc));
            }
            Job::Hash { password, reply } => {
                let _ = reply.send(hash_with(&mut memory, &password));
            }
        }
    }
}

/// `memory` grown to `blocks` (never shrunk: the worker keeps it for the next job).
fn blocks(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    &mut memory[..blocks]
}

/// Checks a password against a PHC string using `memory` for argon2's blocks.
pub(crate) fn verify_with(memory: &mut Vec<Block>, password: &str, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else { return false };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&hash) else { return false };
    if params.m_cost() > MAX_M_COST_KIB {
        tracing::warn!(
            m_cost_kib = params.m_cost(),
            "a stored password hash asks for more memory than allowed; refused"
        );
        return false;
    }
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    if argon
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            blocks(memory, params.block_count()),
        )
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|out| out == expected)
}

/// Hashes a password (argon2id, default parameters, random 16-byte salt) into a PHC string
/// using `memory` for argon2's blocks.
pub(crate) fn hash_with(memory: &mut Vec<Block>, password: &str) -> Result<String, HashError> {
    let err = |e: &dyn std::fmt::Display| HashError::Argon2(e.to_string());
    let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| err(&e))?;
    let params = Params::default();
    let mut raw_salt = [0u8; Salt::MAX_LENGTH];
    let raw_salt = salt.decode_b64(&mut raw_salt).map_err(|e| err(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            raw_salt,
            &mut out,
            blocks(memory, params.block_count()),
        )
        .map_err(|e| err(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| err(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| err(&e))?),
    };
    Ok(phc.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_workers_hashes_are_standard_phc_strings() {
        let mut memory = Vec::new();
        let phc = hash_with(&mut memory, "correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        // Read by the plain argon2 API and by the workers alike.
        assert!(crate::auth::verify_password("correct horse", &phc));
        assert!(!crate::auth::verify_password("wrong horse", &phc));
        assert!(verify_with(&mut memory, "correct horse", &phc));
        assert!(!verify_with(&mut memory, "correct hors", &phc));
        // And the workers read hashes made elsewhere.
        let other = crate::auth::hash_password("another one").unwrap();
        assert!(verify_with(&mut memory, "another one", &other));
        assert_eq!(memory.len(), Params::default().block_count(), "one block of memory, reused");
    }

    #[test]
    fn malformed_or_greedy_hashes_never_match() {
        let mut memory = Vec::new();
        for phc in [
            "",
            "plain",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$",
            "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$0C6Qb1/Vq2qkJ1a6Vv8wB0yq0pM2Q1mQ2m3n4o5p6q8",
        ] {
            assert!(!verify_with(&mut memory, "x", phc), "{phc}");
        }
        assert!(memory.is_empty(), "nothing allocated for refused hashes");
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once() {
        let workers = PasswordWorkers::start(1, 1);
        let phc = crate::auth::hash_password("password1").unwrap();
        let mut busy = 0;
        for _ in 0..8 {
            match workers.submit(Job::Verify {
                password: "nope".into(),
                phc: phc.clone(),
                reply: oneshot::channel().0,
            }) {
                Ok(()) => {}
                Err(HashError::Busy) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        // One job running and one waiting at most; the rest are refused without waiting.
        assert!(busy >= 6, "{busy} refused");
        // Once the queue drains, checks go through again.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            match workers.verify("password1".into(), phc.clone()).await {
                Ok(ok) => break assert!(ok),
                Err(HashError::Busy) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
}
