//! Roles and the permission matrix. The API asks these functions; it never decides by itself.
//!
//! | action                                         | operator | supervisor | manager | admin |
//! |------------------------------------------------|:--------:|:----------:|:-------:|:-----:|
//! | read CRM records (contacts, companies, deals, tasks, notes, timelines) | yes | yes | yes | yes |
//! | create CRM records                              | yes      | yes        | yes     | yes   |
//! | edit a record they own or are assigned          | yes      | yes        | yes     | yes   |
//! | edit anyone's record, reassign owners           | no       | yes        | yes     | yes   |
//! | delete CRM records                              | no       | no         | yes     | yes   |
//! | read the user and team lists                    | yes      | yes        | yes     | yes   |
//! | manage users, teams                             | no       | no         | no      | yes   |
//! | manage settings (pipeline stages, custom fields)| no       | no         | no      | yes   |
//! | read the audit log                              | no       | no         | yes     | yes   |
//! | import and export contacts                      | no       | no         | yes     | yes   |
//! | listen to and download call recordings          | own calls | their teams' calls (and own) | all | all |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a user is in the call centre.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Takes and places calls, works their own contacts and tasks.
    Operator,
    /// Leads a team: sees and edits the team's work, listens to calls.
    Supervisor,
    /// Reads statistics and the pipeline, cleans up data.
    Manager,
    /// Configures the system.
    Admin,
}

/// Something a user may try to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read contacts, companies, deals, tasks, notes and timelines.
    ReadCrm,
    /// Create contacts, companies, deals, tasks and notes.
    CreateCrm,
    /// Edit a record the user owns or is assigned to.
    EditOwnCrm,
    /// Edit any record, including reassigning its owner.
    EditAnyCrm,
    /// Delete a record.
    DeleteCrm,
    /// Read the list of users and teams.
    ReadUsers,
    /// Create and change users and teams.
    ManageUsers,
    /// Change pipeline stages and custom field definitions.
    ManageSettings,
    /// Read the audit log.
    ReadAudit,
    /// Bulk import and export of contacts.
    ImportExport,
    /// Keep the product catalogue and its prices.
    ManageCatalogue,
    /// Go available, pause, take calls; read the calls one took.
    TakeCalls,
    /// Read every call and the live state of queues, agents and registrations.
    MonitorCalls,
    /// Configure queues, their members and agents' SIP phones.
    ManageTelephony,
}

/// Whose call recordings a role may hear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingScope {
    /// Calls the user took or placed.
    Own,
    /// Calls of the agents in the teams the user supervises, and their own.
    Team,
    /// Every call.
    All,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 4] = [Role::Operator, Role::Supervisor, Role::Manager, Role::Admin];

    /// Whether this role may perform `action` at all (ownership is checked by [`Role::may_edit`]).
    pub fn can(self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        match action {
            ReadCrm | CreateCrm | EditOwnCrm | ReadUsers | TakeCalls => true,
            EditAnyCrm | MonitorCalls => matches!(self, Supervisor | Manager | Admin),
            DeleteCrm | ReadAudit | ImportExport | ManageCatalogue => {
                matches!(self, Manager | Admin)
            }
            ManageUsers | ManageSettings | ManageTelephony => self == Admin,
        }
    }

    /// Whether a user with this role and id may edit a record owned by `owner_id` and assigned
    /// to `assignee_id` (either may be absent).
    pub fn may_edit(
        self,
        user_id: &str,
        owner_id: Option<&str>,
        assignee_id: Option<&str>,
    ) -> bool {
        self.can(Action::EditAnyCrm) || owner_id == Some(user_id) || assignee_id == Some(user_id)
    }

    /// Whose recordings this role may hear.
    pub fn recording_scope(self) -> RecordingScope {
        match self {
            Role::Operator => RecordingScope::Own,
            Role::Supervisor => RecordingScope::Team,
            Role::Manager | Role::Admin => RecordingScope::All,
        }
    }

    /// The lowercase name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Supervisor => "supervisor",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?} (expected operator, supervisor, manager or admin)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "operator" => Ok(Role::Operator),
            "supervisor" => Ok(Role::Supervisor),
            "manager" => Ok(Role::Manager),
            "admin" => Ok(Role::Admin),
            _ => Err(UnknownRole(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix() {
        use Action::*;
        let expect = |action, allowed: [bool; 4]| {
            for (role, want) in Role::ALL.into_iter().zip(allowed) {
                assert_eq!(role.can(action), want, "{role} {action:?}");
            }
        };
        expect(ReadCrm, [true, true, true, true]);
        expect(CreateCrm, [true, true, true, true]);
        expect(EditOwnCrm, [true, true, true, true]);
        expect(EditAnyCrm, [false, true, true, true]);
        expect(DeleteCrm, [false, false, true, true]);
        expect(ReadUsers, [true, true, true, true]);
        expect(ManageUsers, [false, false, false, true]);
        expect(ManageSettings, [false, false, false, true]);
        expect(ReadAudit, [false, false, true, true]);
        expect(ImportExport, [false, false, true, true]);
        expect(TakeCalls, [true, true, true, true]);
        expect(MonitorCalls, [false, true, true, true]);
        expect(ManageTelephony, [false, false, false, true]);
    }

    #[test]
    fn ownership() {
        assert!(Role::Operator.may_edit("u1", Some("u1"), None));
        assert!(Role::Operator.may_edit("u1", Some("u2"), Some("u1")));
        assert!(!Role::Operator.may_edit("u1", Some("u2"), None));
        assert!(!Role::Operator.may_edit("u1", None, None));
        assert!(Role::Supervisor.may_edit("u1", Some("u2"), None));
    }

    #[test]
    fn parse() {
        assert_eq!("Admin".parse::<Role>().unwrap(), Role::Admin);
        assert!("root".parse::<Role>().is_err());
    }
}
