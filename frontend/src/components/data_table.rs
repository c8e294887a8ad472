//! A plain figures table: the first column names the row, the others are numbers (right-aligned).
//! Charts use it as their accessible alternative.

use yew::prelude::*;

pub fn data_table(caption: &str, head: &[&'static str], rows: &[Vec<String>]) -> Html {
    html! {
        <div class="dt-scroll">
            <table class="dt-table">
                <caption class="dt-sr">{ caption }</caption>
                <thead><tr>
                    { for head.iter().enumerate().map(|(i, h)| html! { <th scope="col" class={(i > 0).then_some("dt-num")}>{ *h }</th> }) }
                </tr></thead>
                <tbody>
                    { for rows.iter().map(|r| html! {
                        <tr>{ for r.iter().enumerate().map(|(i, c)| if i == 0 {
                            html! { <th scope="row">{ c }</th> }
                        } else {
                            html! { <td class="dt-num">{ c }</td> }
                        }) }</tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}
