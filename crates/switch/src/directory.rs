//! What the switch needs to know about queues and phones, held in memory so that routing a
//! call or logging an agent in never waits for the database.
//!
//! The directory is read whole from the store at start and again whenever the API says the
//! queues or the phones changed. A reload runs beside the switch (see [`Directory::load`]);
//! the switch swaps the new directory in when it arrives, and keeps serving from the old one
//! meanwhile (or when the database cannot be read).

use std::collections::HashMap;
use std::sync::Arc;

use switchboard_core::entity::Queue;
use switchboard_core::flow::EntryPoint;
use switchboard_sip::edge::EXTENSION_PREFIX;
use switchboard_store::{SipEndpointRow, Store, StoreError};

/// Queues and agents' phones as the switch routes by them.
#[derive(Debug, Default, Clone)]
pub(crate) struct Directory {
    /// Every queue, by id.
    pub(crate) queues: Vec<Queue>,
    /// Queue number -> queue id.
    by_number: HashMap<String, String>,
    /// Queue name -> queue id (a call may name its queue instead of dialling its number).
    by_name: HashMap<String, String>,
    /// Agent -> the queues they serve, by id, sorted.
    agent_queues: HashMap<String, Vec<String>>,
    /// Agent -> how the gateway rings their phone.
    phones: HashMap<String, SipEndpointRow>,
    /// Called number -> the entry point it starts.
    entry_points: HashMap<String, Arc<EntryPoint>>,
    /// Stored prompts' audio (μ-law, 8 kHz), by id.
    prompts: HashMap<String, Arc<[u8]>>,
    /// Business hours, for the flows' `hours` steps.
    pub(crate) schedules: Vec<switchboard_core::hours::Schedule>,
    /// Agents' skills, for skills routing.
    skills: HashMap<String, switchboard_core::acd::Skills>,
}

impl Directory {
    /// Reads the queues and the phones from the store.
    pub(crate) async fn load(store: &Store) -> Result<Directory, StoreError> {
        let queues = store.list_queues().await?;
        let phones = store.sip_endpoints().await?;
        let mut directory = Directory::new(queues, phones);
        for entry in store.list_entry_points().await? {
            let entry = Arc::new(entry);
            for number in &entry.numbers {
                directory.entry_points.insert(number.clone(), Arc::clone(&entry));
            }
        }
        directory.prompts = store
            .all_prompt_audio()
            .await?
            .into_iter()
            .map(|(id, audio)| (id, Arc::from(audio)))
            .collect();
        directory.schedules = store.list_schedules().await?;
        directory.skills = store.agent_skills().await?.into_iter().collect();
        Ok(directory)
    }

    /// The entry point a called number starts, if any.
    pub(crate) fn entry_point_for(&self, number: &str) -> Option<Arc<EntryPoint>> {
        self.entry_points.get(number).cloned()
    }

    /// A stored prompt's audio.
    pub(crate) fn prompt(&self, id: &str) -> Option<Arc<[u8]>> {
        self.prompts.get(id).cloned()
    }

    pub(crate) fn new(queues: Vec<Queue>, phones: Vec<SipEndpointRow>) -> Directory {
        let mut by_number = HashMap::new();
        let mut by_name = HashMap::new();
        let mut agent_queues: HashMap<String, Vec<String>> = HashMap::new();
        for q in &queues {
            if let Some(number) = &q.number {
                by_number.entry(number.clone()).or_insert_with(|| q.id.clone());
            }
            by_name.entry(q.name.clone()).or_insert_with(|| q.id.clone());
            for member in &q.members {
                agent_queues.entry(member.clone()).or_default().push(q.id.clone());
            }
        }
        for list in agent_queues.values_mut() {
            list.sort();
            list.dedup();
        }
        let phones = phones.into_iter().map(|p| (p.user_id.clone(), p)).collect();
        Directory {
            queues,
            by_number,
            by_name,
            agent_queues,
            phones,
            entry_points: HashMap::new(),
            prompts: HashMap::new(),
            schedules: Vec::new(),
            skills: HashMap::new(),
        }
    }

    /// The queue a called number (or queue name) routes to: a queue's number first, then a
    /// queue's name.
    pub(crate) fn queue_for(&self, number: &str) -> Option<&str> {
        self.by_number.get(number).or_else(|| self.by_name.get(number)).map(String::as_str)
    }

    /// The queues an agent serves.
    pub(crate) fn queues_of(&self, user_id: &str) -> &[String] {
        self.agent_queues.get(user_id).map_or(&[], Vec::as_slice)
    }

    /// An agent's skills.
    pub(crate) fn skills_of(&self, user_id: &str) -> switchboard_core::acd::Skills {
        self.skills.get(user_id).cloned().unwrap_or_default()
    }

    /// The target the edge rings for an agent: their fixed URI, or `ext:NNN`.
    pub(crate) fn phone_of(&self, user_id: &str) -> Option<String> {
        let phone = self.phones.get(user_id)?;
        match (&phone.uri, &phone.extension) {
            (Some(uri), _) => Some(uri.clone()),
            (None, Some(ext)) => Some(format!("{EXTENSION_PREFIX}{ext}")),
            (None, None) => None,
        }
    }

    /// The agent's extension, when their phone registers as one.
    pub(crate) fn extension_of(&self, user_id: &str) -> Option<&str> {
        let phone = self.phones.get(user_id)?;
        if phone.uri.is_some() { None } else { phone.extension.as_deref() }
    }

    /// Every extension with its digest secret, for the registrar.
    pub(crate) fn extensions(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.phones.values().filter_map(|p| Some((p.extension.clone()?, p.ha1.clone()?)))
    }
}

/// Directory loads in flight and the reload requests waiting on them. Loads run beside the
/// switch and may finish out of order: only one newer than the directory in use is used, and a
/// request is answered once a load started after it has finished (used, or failed and the old
/// directory kept).
#[derive(Debug)]
pub(crate) struct Reloads<R> {
    /// The number of the last load started.
    started: u64,
    /// The number of the load whose directory is in use.
    in_use: u64,
    /// Requests and the load each waits for.
    waiting: Vec<(u64, R)>,
}

impl<R> Default for Reloads<R> {
    fn default() -> Self {
        Reloads { started: 0, in_use: 0, waiting: Vec::new() }
    }
}

impl<R> Reloads<R> {
    /// A reload is asked for: the number of the load to start for it.
    pub(crate) fn start(&mut self, reply: R) -> u64 {
        self.started += 1;
        self.waiting.push((self.started, reply));
        self.started
    }

    /// Load `number` finished (`loaded`: it read the store): whether its directory is to be
    /// used, and the requests now answered.
    pub(crate) fn finished(&mut self, number: u64, loaded: bool) -> (bool, Vec<R>) {
        let used = loaded && number > self.in_use;
        if used {
            self.in_use = number;
        }
        let (done, waiting): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.waiting).into_iter().partition(|(n, _)| *n <= number);
        self.waiting = waiting;
        (used, done.into_iter().map(|(_, reply)| reply).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::acd::Strategy;

    fn queue(id: &str, name: &str, number: Option<&str>, members: &[&str]) -> Queue {
        Queue {
            id: id.into(),
            name: name.into(),
            number: number.map(Into::into),
            strategy: Strategy::LongestIdle,
            ring_timeout_ms: 15_000,
            max_wait_ms: 300_000,
            wrap_up_ms: 0,
            record: true,
            sl_answer_ms: 20_000,
            sl_target_pct: 80,
            members: members.iter().map(|m| (*m).into()).collect(),
            waiting_sound: None,
            announce_every_s: 0,
            language: "ru".into(),
            owner_first_s: 0,
            vip_field: None,
            schedule_id: None,
            after_hours: "voicemail".into(),
            callback_after_s: 0,
            callback_over_wait_s: 0,
            callback_attempts: 3,
            callback_retry_s: 300,
            skills: Default::default(),
            created_at: 0,
        }
    }

    fn phone(user: &str, uri: Option<&str>, ext: Option<&str>) -> SipEndpointRow {
        SipEndpointRow {
            user_id: user.into(),
            uri: uri.map(Into::into),
            extension: ext.map(Into::into),
            ha1: ext.map(|_| "secret".into()),
        }
    }

    #[test]
    fn a_late_older_load_is_not_used_and_requests_wait_for_their_own() {
        let mut r = Reloads::default();
        let first = r.start("first");
        let second = r.start("second");
        // The second load finishes first: used; both requests are answered (the second load
        // started after the first request, so it holds that change too).
        assert_eq!(r.finished(second, true), (true, vec!["first", "second"]));
        // The first load arrives late: not used (it is older), nobody left to answer.
        assert_eq!(r.finished(first, true), (false, vec![]));
        // A failed load answers its request and keeps the directory in use.
        let third = r.start("third");
        assert_eq!(r.finished(third, false), (false, vec!["third"]));
        let fourth = r.start("fourth");
        assert_eq!(r.finished(fourth, true), (true, vec!["fourth"]));
    }

    #[test]
    fn an_older_load_answers_only_older_requests() {
        let mut r = Reloads::default();
        let first = r.start(1);
        let _second = r.start(2);
        assert_eq!(r.finished(first, true), (true, vec![1]));
    }

    #[test]
    fn routes_by_number_before_name() {
        let d = Directory::new(
            vec![queue("q1", "100", None, &[]), queue("q2", "sales", Some("100"), &[])],
            vec![],
        );
        assert_eq!(d.queue_for("100"), Some("q2"));
        assert_eq!(d.queue_for("sales"), Some("q2"));
        assert_eq!(d.queue_for("101"), None);
    }

    #[test]
    fn knows_agents_queues_and_phones() {
        let d = Directory::new(
            vec![queue("q2", "b", None, &["ann"]), queue("q1", "a", None, &["ann", "bob"])],
            vec![phone("ann", None, Some("201")), phone("bob", Some("sip:bob@h"), None)],
        );
        assert_eq!(d.queues_of("ann"), ["q1", "q2"]);
        assert!(d.queues_of("eve").is_empty());
        assert_eq!(d.phone_of("ann").as_deref(), Some("ext:201"));
        assert_eq!(d.phone_of("bob").as_deref(), Some("sip:bob@h"));
        assert_eq!(d.extension_of("ann"), Some("201"));
        assert_eq!(d.extension_of("bob"), None);
        assert_eq!(d.phone_of("eve"), None);
        assert_eq!(d.extensions().collect::<Vec<_>>(), [("201".into(), "secret".into())]);
    }
}
