//! The variables Ansible adds while rendering a `template`: `ansible_managed`,
//! `template_path`, `template_fullpath`, `template_destpath`, `template_host`,
//! `template_uid`, `template_mtime`, `template_run_date`.

use crate::template::Vars;
use crate::value::{Map, Value};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Ansible's default `ansible_managed` text.
const MANAGED: &str = "Ansible managed";

pub fn template_vars(src_arg: &str, path: &Path, dest: &str, host_vars: &Arc<dyn Vars>) -> Map {
    let mut m = Map::new();
    // Never templated again: a path may hold `{{`.
    let mut put = |k: &str, v: String| {
        m.insert(k.to_string(), Value::Unsafe(v));
    };
    if host_vars.get("ansible_managed").is_none() {
        put("ansible_managed", MANAGED.to_string());
    }
    put("template_path", src_arg.to_string());
    put("template_fullpath", path.display().to_string());
    put("template_destpath", dest.to_string());
    put(
        "template_host",
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default(),
    );
    let meta = std::fs::metadata(path).ok();
    put(
        "template_uid",
        meta.as_ref().map(|m| user_name(m.uid())).unwrap_or_default(),
    );
    let mtime = meta
        .map(|m| m.mtime() as f64 + m.mtime_nsec() as f64 / 1e9)
        .unwrap_or(0.0);
    put("template_mtime", date_time(mtime));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    put("template_run_date", date_time(now));
    m
}

/// The login name for `uid` from the controller's passwd file, else the number.
fn user_name(uid: u32) -> String {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?;
            (id.parse::<u32>().ok()? == uid).then(|| name.to_string())
        })
        .next()
        .unwrap_or_else(|| uid.to_string())
}

/// `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), as Python prints a datetime.
fn date_time(epoch: f64) -> String {
    let secs = epoch.floor() as i64;
    let micros = ((epoch - secs as f64) * 1e6).round().min(999_999.0) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Days to a civil date (proleptic Gregorian), era-based.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let text = format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    // Python leaves the fraction off a whole second.
    if micros == 0 {
        text
    } else {
        format!("{text}.{micros:06}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_like_python() {
        let table = [
            (0.0, "1970-01-01 00:00:00"),
            (1_795_256_811.730_252, "2026-11-21 10:26:51.730252"),
            (951_782_400.5, "2000-02-29 00:00:00.500000"),
        ];
        for (epoch, want) in table {
            assert_eq!(date_time(epoch), want);
        }
        assert_eq!(user_name(0), "root");
    }
}
