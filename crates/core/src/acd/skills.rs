//! Skills: what an agent knows (a language, a product) and what a queue's calls need, each with
//! a level; `qualified` filters a queue's agents by them and `fit` ranks them for the skills
//! strategy.

use std::collections::BTreeMap;

/// Skills (a language, a product) with a level each, 1 to 5.
pub type Skills = BTreeMap<String, u8>;

/// The highest skill level.
pub const MAX_LEVEL: u8 = 5;

/// Whether an agent with `has` may take calls needing `needs` (every skill at its level or
/// above).
pub fn qualified(has: &Skills, needs: &Skills) -> bool {
    needs.iter().all(|(skill, level)| has.get(skill).is_some_and(|l| l >= level))
}

/// What is wrong with a set of skills: names of 1 to 32 characters, levels 1 to 5, at most 20.
pub fn check_skills(skills: &Skills) -> Result<(), String> {
    if skills.len() > 20 {
        return Err("at most 20 skills".into());
    }
    for (name, level) in skills {
        if name.trim().is_empty() || name.trim() != name || name.chars().count() > 32 {
            return Err(format!("{name:?}: a skill's name is 1 to 32 characters"));
        }
        if !(1..=MAX_LEVEL).contains(level) {
            return Err(format!("{name}: the level is 1 to {MAX_LEVEL}"));
        }
    }
    Ok(())
}

/// How well an agent with `has` fits calls needing `needs`: the sum of their levels in them.
pub fn fit(has: &Skills, needs: &Skills) -> u32 {
    needs.keys().filter_map(|skill| has.get(skill)).map(|l| u32::from(*l)).sum()
}
