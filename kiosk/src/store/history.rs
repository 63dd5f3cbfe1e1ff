//! History for care: check-ins, plans and exercise days the planner and habit score read.

use super::*;

impl Store {
    // ---- History for care (planner and habit score). ----

    /// The resident's days since `since` as care's planner and habit score read them:
    /// each day's plan (intensity, item count; a rest day is excused) and the category
    /// of every exercise done (looked up in `catalogue`; ids it lacks are left out).
    pub fn day_records(
        &self,
        resident: ResidentId,
        since: NaiveDate,
        catalogue: &care::catalogue::Catalogue,
    ) -> Result<Vec<DayRecord>, StoreError> {
        let mut days: std::collections::BTreeMap<NaiveDate, DayRecord> = Default::default();
        let blank = |date| DayRecord { date, planned: None, planned_items: 0, done: vec![], excused: false };
        for plan in self.plans_since(resident, since)? {
            let d = days.entry(plan.date).or_insert_with(|| blank(plan.date));
            d.planned = plan.intensity;
            d.planned_items = plan.exercise_ids.len().min(255) as u8;
            d.excused = plan.intensity.is_none();
        }
        let mut stmt = self.conn.prepare(
            "SELECT day, exercise_ids FROM exercise_sessions WHERE resident_id = ?1 AND day >= ?2 ORDER BY day",
        )?;
        let rows = stmt.query_map(params![resident.0, since.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (day, ids) = row?;
            let date = parse_day(&day)?;
            let d = days.entry(date).or_insert_with(|| blank(date));
            for id in json_strings(&ids)? {
                if let Some(e) = catalogue.get(&id) {
                    d.done.push(e.category);
                }
            }
        }
        Ok(days.into_values().collect())
    }

    /// The tablet asked these residents by itself at `at` (its local clock, whole
    /// seconds). An ask answers a pending re-prompt (asked at once, once). Asks older
    /// than a week are dropped: only today's count.
    pub fn record_asks(&mut self, residents: &[ResidentId], at: NaiveDateTime) -> Result<(), StoreError> {
        let tx = self.write()?;
        for r in residents {
            tx.execute(
                "INSERT OR IGNORE INTO asks (resident_id, at) VALUES (?1, ?2)",
                params![r.0, events::local(at)],
            )?;
            tx.execute("UPDATE reprompts SET asked = 1 WHERE resident_id = ?1 AND done = 0", [r.0])?;
        }
        tx.execute("DELETE FROM asks WHERE at < ?1", [events::local(at - chrono::Days::new(7))])?;
        tx.commit()?;
        Ok(())
    }

    /// When the tablet asked the resident by itself on `day`, oldest first.
    pub fn asks_on(&self, resident: ResidentId, day: NaiveDate) -> Result<Vec<NaiveDateTime>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT at FROM asks WHERE resident_id = ?1 AND substr(at, 1, 10) = ?2 ORDER BY at")?;
        let rows = stmt.query_map(params![resident.0, day.to_string()], |r| r.get::<_, String>(0))?;
        rows.map(|r| parse_local(&r?)).collect()
    }

    /// Keeps that small talk on `topic` was had with the resident on `day` (the topic's
    /// id only); older than four weeks is forgotten.
    pub fn record_talk(
        &mut self,
        resident: ResidentId,
        topic: &str,
        day: NaiveDate,
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        tx.execute(
            "INSERT OR IGNORE INTO talks (resident_id, day, topic) VALUES (?1, ?2, ?3)",
            params![resident.0, day.to_string(), topic],
        )?;
        tx.execute("DELETE FROM talks WHERE day < ?1", [(day - chrono::Days::new(28)).to_string()])?;
        tx.commit()?;
        Ok(())
    }

    /// The small-talk topics kept for the resident (four weeks of them), and when: which
    /// ones still rest is care's to decide, by the controller's clock.
    pub fn talks(&self, resident: ResidentId) -> Result<Vec<(String, NaiveDate)>, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT topic, day FROM talks WHERE resident_id = ?1 ORDER BY day")?;
        let rows = stmt
            .query_map([resident.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(topic, day)| {
                let day =
                    day.parse().map_err(|_| StoreError::Corrupt { detail: "a talk's day".to_owned() })?;
                Ok((topic, day))
            })
            .collect()
    }

    /// The resident's check-ins since `since` (inclusive), oldest first.
    pub fn checkins_since(
        &self,
        resident: ResidentId,
        since: NaiveDate,
    ) -> Result<Vec<CheckinSummary>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT day, started_at, ended_at, outcome, feeling, pains FROM checkins
             WHERE resident_id = ?1 AND day >= ?2 ORDER BY ended_at, rowid",
        )?;
        let rows = stmt.query_map(params![resident.0, since.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (day, started, ended, outcome, feeling, pains) = row?;
            out.push(CheckinSummary {
                day: parse_day(&day)?,
                started_at: parse_local(&started)?,
                ended_at: parse_local(&ended)?,
                outcome: outcome
                    .parse::<Outcome>()
                    .ok()
                    .ok_or_else(|| StoreError::Corrupt { detail: "checkins.outcome".to_owned() })?,
                feeling: events::parse_feeling(&feeling),
                pains: pains.split(',').filter_map(|p| p.parse::<BodyPart>().ok()).collect(),
            });
        }
        Ok(out)
    }

    /// Keeps today's plan for tomorrow's planner (one per resident and day; a new plan
    /// for the same day replaces it).
    pub fn save_plan(&mut self, resident: ResidentId, plan: &care::planner::Plan) -> Result<(), StoreError> {
        let ids: Vec<&str> = plan.items.iter().map(|i| i.exercise_id.as_str()).collect();
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO plans (resident_id, day, intensity, exercise_ids) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (resident_id, day) DO UPDATE SET intensity = excluded.intensity,
                 exercise_ids = excluded.exercise_ids",
            params![
                resident.0,
                plan.date.to_string(),
                plan.intensity.map(events::intensity_key),
                serde_json::to_string(&ids).map_err(|e| StoreError::Invalid(e.to_string()))?,
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn plans_since(&self, resident: ResidentId, since: NaiveDate) -> Result<Vec<SavedPlan>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT day, intensity, exercise_ids FROM plans WHERE resident_id = ?1 AND day >= ?2 ORDER BY day",
        )?;
        let rows = stmt
            .query_map(params![resident.0, since.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.map(|r| saved_plan(r?)).collect()
    }
}

pub(super) fn saved_plan(
    (day, intensity, ids): (String, Option<String>, String),
) -> Result<SavedPlan, StoreError> {
    Ok(SavedPlan {
        date: parse_day(&day)?,
        intensity: intensity.as_deref().and_then(events::parse_intensity),
        exercise_ids: json_strings(&ids)?,
    })
}

pub(super) fn json_strings(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text)
        .map_err(|_| StoreError::Corrupt { detail: "a list of exercise ids".to_owned() })
}
