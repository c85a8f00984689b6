mod common;

use facture::app::{Command, Session};
use facture::domain::{Rect, Role};
use facture::store::{NewDocument, Store, Workspace};

#[test]
fn smoke() {
    let Some(url) = common::pg::fresh_database() else { return };
    let ws = Workspace::parse(&url).unwrap();
    let mut store = Store::create_at(&ws).unwrap();
    assert_eq!(store.labels().unwrap().len(), 19);
    let ann = store.add_user("ann", Role::Annotator).unwrap();
    let doc = store
        .add_document(
            &NewDocument { path: "/x/a.png".into(), sha256: "a".repeat(64), page: 0, width: 100, height: 80 },
            1,
        )
        .unwrap()
        .unwrap();
    assert!(
        store
            .add_document(
                &NewDocument { path: "/x/a.png".into(), sha256: "a".repeat(64), page: 0, width: 100, height: 80 },
                1
            )
            .unwrap()
            .is_none()
    );
    let mut s = Session::new(store, ann);
    let b = s
        .apply(Command::AddBox {
            doc,
            rect: Rect::new(1.0, 2.0, 30.0, 20.0),
            quad: None,
            label: None,
            text: "x".into(),
        })
        .unwrap()
        .created_boxes()[0];
    s.apply(Command::SetText { doc, id: b, text: "y".into() }).unwrap();
    s.apply(Command::Undo { doc }).unwrap();
    assert_eq!(s.store().annotations(doc).unwrap()[0].text, "x");
    s.apply(Command::Undo { doc }).unwrap();
    assert!(s.store().annotations(doc).unwrap().is_empty());
    s.apply(Command::Redo { doc }).unwrap();
    assert_eq!(s.store().annotations(doc).unwrap()[0].id, b);
    let r = facture::app::stats::report(s.store_mut(), &Default::default()).unwrap();
    eprintln!("{}", r.to_table());
    drop(s);
    let again = Store::connect(&ws).unwrap();
    assert_eq!(again.annotations(doc).unwrap().len(), 1);
    assert!(Store::create_at(&ws).is_err());
}
